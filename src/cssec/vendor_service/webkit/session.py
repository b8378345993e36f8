"""The browser session of the console and the portal: Starlette's signed cookie, scoped to
the app's path, made anew at every sign-in with a fresh CSRF token, cleared at sign-out
(with the reason kept for the next page), and the per-browser language choice.

What a session *means* stays with each app: the console checks a fingerprint of the staff
member's password hash and an idle time, the portal a session key hashed on its sign-in
row. Each app ends its own server-side state before it calls `close_session` here, so a copy
of the cookie dies with the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.params import Depends
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from cssec.vendor_service.webkit.pages import WebApp, vendor_of
from cssec.web.i18n import LANGUAGES
from cssec.web.pages import check_csrf, flash, redirect, set_language_cookie
from cssec.web.security import CSRF_SESSION_KEY, new_token

SESSION_MAX_AGE = 12 * 3600
"""The cookie's own lifetime; each app ends its sessions sooner on its own terms."""
SIGNED_OUT = "signed_out"

CsrfToken = Annotated[str, Form(max_length=128)]
"""The form field every POST of both apps carries."""

__all__ = [
    "SESSION_MAX_AGE",
    "CsrfToken",
    "PathSessionMiddleware",
    "add_language_route",
    "check_csrf",
    "close_session",
    "ended_because",
    "forget_session",
    "install_session",
    "start_session",
]


class PathSessionMiddleware(SessionMiddleware):
    """Starlette's session cookie for one app's paths only: the cookie's path is the app's
    prefix, so no other request carries it, and the API's hot paths (every server's status
    checks and manifest polls) skip the cookie parsing."""

    def __init__(self, app: ASGIApp, /, *, prefix: str, **options: Any) -> None:
        super().__init__(app, path=prefix, **options)
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def install_session(app: FastAPI, web: WebApp, *, secret: str, https_only: bool) -> None:
    """The app's signed session cookie (`web.cookie`): SameSite=Lax, HttpOnly, HTTPS-only
    when asked, signed with `secret` (each app its own, so neither cookie stands in for
    the other)."""
    app.add_middleware(
        PathSessionMiddleware,
        prefix=web.prefix,
        secret_key=secret,
        session_cookie=web.cookie,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=https_only,
    )


def start_session(request: Request, values: Mapping[str, Any]) -> None:
    """A fresh session holding `values` and a new CSRF token: nothing from before (a
    token an attacker planted, flashes, a pending step) survives a sign-in."""
    request.session.clear()
    request.session.update(values)
    request.session[CSRF_SESSION_KEY] = new_token()


def forget_session(request: Request, reason: str) -> None:
    """The session is over (idle, password changed, ended elsewhere): clear it and keep
    `reason` for the sign-in page to explain."""
    request.session.clear()
    request.session[SIGNED_OUT] = reason


def ended_because(request: Request) -> str | None:
    """Why the last session ended, once (`forget_session`'s reason)."""
    reason = request.session.pop(SIGNED_OUT, None)
    return reason if isinstance(reason, str) else None


def close_session(request: Request, message: str, *, to: str) -> Response:
    """After the app ended its server-side session: clear the cookie's, say so once on the
    next page, and go there."""
    request.session.clear()
    flash(request, "info", message)
    return redirect(to)


def add_language_route(
    router: APIRouter, web: WebApp, *, dependencies: Sequence[Depends] = ()
) -> Callable[..., Response]:
    """`POST <prefix>/language`: the 日本語 / English switch, remembered in this browser's
    language cookie (HTTPS-only as the session is) and back to the page it was used on."""

    def switch_language(
        request: Request,
        lang: Annotated[str, Form(max_length=8)] = "ja",
        csrf_token: CsrfToken = "",
        next: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        check_csrf(request, csrf_token)
        response = redirect(web.next_page(next))
        if lang in LANGUAGES:
            secure = vendor_of(request).settings.console_https_only
            set_language_cookie(response, lang, secure=secure)
        return response

    router.add_api_route(
        "/language", switch_language, methods=["POST"], dependencies=list(dependencies)
    )
    return switch_language
