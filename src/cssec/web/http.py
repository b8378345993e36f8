"""The one place each app maps errors to responses, and the ASGI middleware both apps share."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cssec.core.errors import CssecError, ValidationFailed
from cssec.web.i18n import LANG_COOKIE, current_language, negotiate

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
            "リクエストの本文を読み取れません。"
            "UTF-8 の JSON (またはフォーム) で送り直してください。"
        ),
        404: "見つかりません。",
        405: "このメソッドは使用できません。",
        413: "リクエストが大きすぎます。",
    },
    "en": {
        400: "The request body could not be read. Send it again as UTF-8 JSON (or form data).",
        404: "Not found.",
        405: "Method not allowed.",
        413: "Request too large.",
    },
}


def error_response(exc: CssecError, lang: str) -> JSONResponse:
    headers: dict[str, str] = {}
    retry_after = exc.fields.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(exc.to_dict(lang), status_code=exc.status, headers=headers)


def _validation_detail(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    async def on_cssec_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CssecError)
        return error_response(exc, current_language.get())

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = _validation_detail(list(exc.errors()))
        body = ValidationFailed(detail=detail).to_dict(current_language.get())
        return JSONResponse(body, status_code=422)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        lang = current_language.get()
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = _HTTP_MESSAGES[lang].get(exc.status_code, str(exc.detail))
        return JSONResponse(
            {"code": code, "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(CssecError, on_cssec_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


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
# forms post to their own origin. FastAPI's /docs and /redoc pages load Swagger UI and
# ReDoc from a CDN with inline script, so they go without this policy.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)
_NO_CSP_PATHS = ("/docs", "/redoc")


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
        with_csp = not scope["path"].startswith(_NO_CSP_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not is_static:
                    extra += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                if with_csp:
                    extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY))
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (n, v) for n, v in extra if n not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
        received = 0
        response_started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now: frameworks may turn the exception below into their own 400.
                    if not response_started and not rejected:
                        rejected = True
                        await self._reject(send)
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

    async def _reject(self, send: Send) -> None:
        lang = current_language.get()
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


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
