"""The reviewers' web app: `create_app(service)` gives the FastAPI application.

Routes live by concern in auth.py (login/logout), pages.py (queue, item, report pages and
their images), api.py (the JSON API) and admin.py (users and label variants). Every one of
them except login and /static depends on security.require_caller.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from gongkai.review.errors import (
    AuthenticationFailed,
    InvalidValue,
    ItemNotFound,
    ItemUnavailable,
    PermissionDenied,
    ReviewError,
    VersionConflict,
)
from gongkai.review.service import ReviewService

from . import admin, api, auth, pages
from .rendering import render
from .security import CsrfRefused, LoginRequired, SecurityHeaders

HERE = Path(__file__).parent
SESSION_COOKIE = "gongkai_session"
SESSION_MAX_AGE_S = 8 * 3600  # one working day

STATUS_OF: dict[type[ReviewError], int] = {
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    ItemNotFound: 404,
    ItemUnavailable: 409,
    VersionConflict: 409,
    InvalidValue: 422,
}


def create_app(service: ReviewService, *, secret_key: str | None = None, secure_cookies: bool = False) -> FastAPI:
    """The app over one ReviewService. secret_key signs session cookies (random if None:
    sessions then end when the process does); secure_cookies sets the cookie's Secure flag
    (behind HTTPS)."""
    app = FastAPI(title="gongkai review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key or secrets.token_urlsafe(32),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="strict",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, pages, api, admin):
        app.include_router(module.router)
    _add_error_handlers(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(ReviewError)
    async def _review(request: Request, exc: ReviewError) -> Response:
        status = next((s for kind, s in STATUS_OF.items() if isinstance(exc, kind)), 400)
        return _error(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, f"malformed request: {_problems(exc)}")


def _problems(exc: RequestValidationError) -> str:
    """One phrase per bad input; a value that fits none of a union's types says so once."""
    by_input: dict[str, list[str]] = {}
    for error in exc.errors():
        name = str(error["loc"][1]) if len(error["loc"]) > 1 else str(error["loc"][0])
        by_input.setdefault(name, []).append(error["msg"])
    return "; ".join(
        f"{name}: {msgs[0] if len(msgs) == 1 else 'not a number, text or null'}" for name, msgs in by_input.items()
    )


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)
