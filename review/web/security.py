"""Who is asking, and the browser-side protections every response carries.

A request is authenticated by the signed session cookie (browser) or by
`Authorization: Bearer <token>` (integrations). A cookie-authenticated POST must carry the
session's CSRF token (header X-CSRF-Token, or the form field `csrf`); a bearer request needs
none, since a browser never attaches that header by itself.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongkai.models.review import User
from gongkai.review.errors import AuthenticationFailed, PermissionDenied
from gongkai.review.service import ReviewService

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SESSION_USER = "user"
SESSION_CSRF = "csrf"

# No inline script or style anywhere: the pages load /static/review.js and review.css only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (plain ASGI: no per-request task overhead)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "Cache-Control" and static:
                        continue  # the vendored script and style may be cached
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginRequired(Exception):
    """No session and no token: pages redirect to /login, the API answers 401."""


class CsrfRefused(Exception):
    """A cookie-authenticated POST without the session's CSRF token."""


@dataclass(frozen=True)
class Caller:
    user: User
    via: Literal["session", "token"]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (also before login, for the login form)."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise CsrfRefused("missing or wrong CSRF token; reload the page")


def service_of(request: Request) -> ReviewService:
    return request.app.state.service


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def caller_of(request: Request) -> Caller:
    """The authenticated caller, or LoginRequired."""
    token = bearer_token(request)
    if token is not None:
        try:
            return Caller(service_of(request).user_for_token(token), "token")
        except AuthenticationFailed as exc:
            raise LoginRequired(str(exc)) from exc
    stored = request.session.get(SESSION_USER)
    if not stored:
        raise LoginRequired("log in first")
    user = session_user(request, stored)
    if user is None:
        request.session.clear()
        raise LoginRequired("your account is no longer active")
    return Caller(user, "session")


def session_user(request: Request, stored: dict) -> User | None:
    """The session's user as the store knows them now (a deactivated user is logged out)."""
    user = User.model_validate(stored)
    current = service_of(request).user_by_name(user.name)
    if current is None or not current.active:
        return None
    return current


async def require_caller(request: Request) -> Caller:
    """Dependency of every route but login: who is asking, CSRF checked on cookie POSTs."""
    caller = caller_of(request)
    if request.method not in ("GET", "HEAD") and caller.via == "session":
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = (await request.form()).get(CSRF_FIELD)  # type: ignore[assignment]
        check_csrf(request, sent if isinstance(sent, str) else None)
    return caller


async def require_admin(request: Request) -> Caller:
    caller = await require_caller(request)
    if caller.user.role != "admin":
        raise PermissionDenied("this page is for admins")
    return caller
