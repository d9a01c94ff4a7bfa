"""Login and logout. The service slows repeated failures; the page never says which part
(name or password) was wrong."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from gongkai.review.errors import AuthenticationFailed

from .rendering import render
from .security import SESSION_USER, Caller, check_csrf, csrf_token, require_caller, service_of

router = APIRouter()

LOGIN_FAILED = "wrong name or password (after repeated failures, wait a while before trying again)"


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {"error": None})


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)  # login CSRF: the form's token was set in the pre-login session
    try:
        user = service_of(request).authenticate(name, password)
    except AuthenticationFailed:  # the service's own message may say the name exists (a lock): not shown
        return render(request, "login.html", {"error": LOGIN_FAILED, "name": name}, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) on every login
    request.session[SESSION_USER] = user.model_dump(mode="json")
    csrf_token(request)
    return RedirectResponse("/queue", status_code=303)


@router.post("/logout")
def logout(request: Request, caller: Annotated[Caller, Depends(require_caller)]) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
