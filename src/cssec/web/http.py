"""The one place each app maps errors to responses, and the ASGI middleware both apps share."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cssec.core.errors import CssecError, ValidationFailed
from cssec.web.i18n import LANG_COOKIE, current_language, negotiate
from cssec.web.pages import LoginRequired

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}
_HTTP_MESSAGES = {
    "ja": {
        400: (
            "リクエストの本文を読み取れません。UTF-8の JSON (またはフォーム)で送り直してください。"
        ),
        403: "この操作は許可されていません。",
        404: "見つかりません。",
        405: "このメソッドは使用できません。",
        413: "リクエストが大きすぎます。",
    },
    "en": {
        400: "The request body could not be read. Send it again as UTF-8 JSON (or form data).",
        403: "Not allowed.",
        404: "Not found.",
        405: "Method not allowed.",
        413: "Request too large.",
    },
}


def error_response(exc: CssecError, lang: str, *, challenge: str | None = None) -> JSONResponse:
    headers: dict[str, str] = {}
    retry_after = exc.fields.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if challenge is not None and exc.status == 401:
        headers["WWW-Authenticate"] = challenge
    return JSONResponse(exc.to_dict(lang), status_code=exc.status, headers=headers)


def _validation_detail(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def _carried_error(errors: list[Any]) -> CssecError | None:
    """A CssecError that a pydantic validator raised (as a ValueError, e.g.
    `cssec.core.names.InvalidName`): it explains itself better than the generic 422."""
    for err in errors:
        carried = (err.get("ctx") or {}).get("error")
        if isinstance(carried, CssecError):
            return carried
    return None


ErrorPage = Callable[[Request, CssecError], Response]
"""Renders a refusal as an HTML page (the console's), instead of the JSON body."""


def _fault_messages(service: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {
        "service_unavailable": {
            "ja": f"{service['ja']}が一時的に利用できません。"
            "しばらくしてからもう一度お試しください。",
            "en": f"The {service['en']} is temporarily unavailable. Try again shortly.",
        },
        "internal_error": {
            "ja": f"{service['ja']}で問題が発生しました。しばらくしてからもう一度お試しください。",
            "en": f"The {service['en']} ran into a problem. Try again shortly.",
        },
    }


def http_refusal(status: int, code: str, messages: Mapping[str, str]) -> CssecError:
    """Starlette's HTTP error (404 for a mistyped URL, 405 …) or a fault as a CssecError,
    so an error page can render it like any refusal."""
    texts = {"message_ja": messages["ja"], "message_en": messages["en"]}
    kind = type("HttpRefusal", (CssecError,), {"code": code, "status": status, **texts})
    refusal: CssecError = kind()
    return refusal


async def _render_fault(page: ErrorPage, request: Request, refusal: CssecError) -> Response | None:
    """A fault as the path's error page, or None when the page fails too (then JSON).
    Starlette runs the catch-all handler outside the language middleware: negotiate again."""
    lang = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
    token = current_language.set(lang)
    try:
        response: Response = await run_in_threadpool(page, request, refusal)
    except Exception:
        log.exception("error page failed")
        return None
    finally:
        current_language.reset(token)
    return response


HtmlRefusal = Callable[[Request, CssecError], Awaitable[Response | None]]


def _html_refusal(page_of: Callable[[str], ErrorPage | None]) -> HtmlRefusal:
    async def html_refusal(request: Request, exc: CssecError) -> Response | None:
        """`exc` as the path's error page for a browser, or None (then JSON): for the
        refusals answered outside the routes (`BodySizeLimitMiddleware`'s 413)."""
        page = page_of(request.url.path)
        if page is None or "text/html" not in request.headers.get("accept", ""):
            return None
        return await _render_fault(page, request, exc)

    return html_refusal


API_PREFIXES = ("/api/", "/openapi.json")
"""Paths that always answer JSON, whatever `pages` says."""


def install_error_handlers(  # noqa: PLR0915 - one handler per kind of error, side by side
    app: FastAPI,
    *,
    service: Mapping[str, str] | None = None,
    pages: Mapping[str, ErrorPage] | None = None,
    challenges: Mapping[str, str] | None = None,
    unavailable: tuple[type[Exception], ...] = (),
) -> None:
    """The one place an app maps errors to HTTP.

    - `CssecError` → `{"code", "message", ...fields}` in the request's language with its
      status (and Retry-After); under a path prefix of `pages`, that page renders it
      instead; a 401 under a prefix of `challenges` carries that WWW-Authenticate.
    - request validation → 422 `validation_error` (or the CssecError a validator raised).
    - Starlette's HTTP errors (404, 405 …) → the same JSON shape, or the page.
    - `LoginRequired` → 303 to the login page.
    - faults: a database that cannot be reached (SQLAlchemy's or sqlite3's
      OperationalError, plus `unavailable`) → 503 `service_unavailable` with Retry-After;
      anything else → 500 `internal_error`; both naming `service` ({"ja", "en"}), as
      the page under a prefix of `pages`, else JSON.
    Paths under `API_PREFIXES` always answer JSON.
    """
    pages = dict(pages or {})
    challenges = dict(challenges or {})
    faults = _fault_messages(service or {"ja": "サービス", "en": "service"})

    def _prefixed(table: Mapping[str, Any], path: str) -> Any:
        return next((v for prefix, v in table.items() if path.startswith(prefix)), None)

    def _page(path: str) -> ErrorPage | None:
        return None if path.startswith(API_PREFIXES) else _prefixed(pages, path)

    async def answer(request: Request, exc: CssecError) -> Response:
        page = _page(request.url.path)
        if page is not None:
            response: Response = await run_in_threadpool(page, request, exc)
            return response
        challenge = _prefixed(challenges, request.url.path)
        return error_response(exc, current_language.get(), challenge=challenge)

    async def on_cssec_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CssecError)
        return await answer(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        carried = _carried_error(errors)
        if carried is not None:
            return await answer(request, carried)
        body = ValidationFailed(detail=_validation_detail(errors)).to_dict(current_language.get())
        return JSONResponse(body, status_code=422)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        page = _page(request.url.path)
        if page is not None and exc.status_code in _HTTP_MESSAGES["ja"]:
            messages = {k: _HTTP_MESSAGES[k][exc.status_code] for k in ("ja", "en")}
            refusal = http_refusal(exc.status_code, code, messages)
            return await run_in_threadpool(page, request, refusal)
        message = _HTTP_MESSAGES[current_language.get()].get(exc.status_code, str(exc.detail))
        return JSONResponse(
            {"code": code, "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(exc.login_url, status_code=303)

    def fault(request: Request, code: str) -> dict[str, str]:
        # Starlette runs the catch-all handler outside the app's middleware, where the
        # language middleware has already reset the request's language: negotiate again.
        lang = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
        return {"code": code, "message": faults[code][lang]}

    async def fault_page(request: Request, code: str, status: int) -> Response | None:
        page = _page(request.url.path)
        if page is None:
            return None
        return await _render_fault(page, request, http_refusal(status, code, faults[code]))

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        log.exception("database unavailable", exc_info=exc)
        page = await fault_page(request, "service_unavailable", 503)
        if page is not None:
            page.headers["Retry-After"] = "30"
            return page
        body = fault(request, "service_unavailable")
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})

    async def on_fault(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        page = await fault_page(request, "internal_error", 500)
        if page is not None:
            return page
        return JSONResponse(fault(request, "internal_error"), status_code=500)

    app.state.html_refusal = _html_refusal(_page)
    app.add_exception_handler(CssecError, on_cssec_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(LoginRequired, on_login_required)
    for kind in (OperationalError, sqlite3.OperationalError, *unavailable):
        app.add_exception_handler(kind, on_unavailable)
    app.add_exception_handler(Exception, on_fault)


class LanguageMiddleware:
    """Sets the request's language: the user's cookie, else Accept-Language, else Japanese."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookie_lang = None
        for chunk in headers.get("cookie", "").split(";"):
            name, _, value = chunk.strip().partition("=")
            if name == LANG_COOKIE:
                cookie_lang = value
        token = current_language.set(negotiate(headers.get("accept-language"), cookie_lang))
        try:
            await self.app(scope, receive, send)
        finally:
            current_language.reset(token)


# Pages use one stylesheet from their own origin and no script, inline style or frame;
# forms post to their own origin. A response that sets its own policy keeps it: the API
# reference (`cssec.web.apidocs`) adds its script, from this origin too. No page names
# another origin.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)


HSTS = b"max-age=31536000"
"""A year: long enough that a browser which once reached the service over HTTPS never
tries plain HTTP first."""


class SecurityHeadersMiddleware:
    """No caching of anything dynamic (the FAQ's "reload or clear the cache" must never be
    needed), a strict Content-Security-Policy, and the usual hardening headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")
        # Over HTTPS (directly, or behind a trusted TLS proxy): browsers stay on HTTPS.
        with_hsts = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not is_static:
                    extra += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY))
                if with_hsts:
                    extra.append((b"strict-transport-security", HSTS))
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (n, v) for n, v in extra if n not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, whether announced or streamed.
    `larger` raises the limit for exact paths (an upload form whose route authenticates
    before it reads the body)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = 64 * 1024, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(scope, send)
                    return
        received = 0
        response_started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Answer now: frameworks may turn the exception below into their own 400.
                    if not response_started and not rejected:
                        rejected = True
                        await self._reject(scope, send)
                    raise _TooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if rejected:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        with contextlib.suppress(_TooLargeError):
            await self.app(scope, limited_receive, tracking_send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        """413: the app's HTML error page for a browser on a page path (install_error_handlers'
        `html_refusal`), else JSON."""
        lang = current_language.get()
        app = scope.get("app")
        html_refusal = getattr(getattr(app, "state", None), "html_refusal", None)
        if html_refusal is not None:
            # Outside the session middleware: the page renders as for a visitor.
            request = Request({**scope, "session": {}})
            messages = {k: _HTTP_MESSAGES[k][413] for k in ("ja", "en")}
            refusal = http_refusal(413, "request_too_large", messages)
            page = await html_refusal(request, refusal)
            if page is not None:
                await page({**scope, "session": {}}, _no_body, send)
                return
        body = json.dumps(
            {"code": "request_too_large", "message": _HTTP_MESSAGES[lang][413]},
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLargeError(Exception):
    pass


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
