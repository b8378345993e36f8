"""The two endpoints every C/S Sec. server calls, served without FastAPI's per-request work.

`POST /api/v1/status` and `POST /api/v1/activeupdate/manifest` are declared as ordinary
FastAPI routes (the OpenAPI document; schemathesis checks what is served against it, and
the declared routes call the same work functions). `HotRoutes` sits in front of the
FastAPI app (`cssec.vendor_service.app.VendorApp`), inside the language, security-header and
body-limit middleware that wrap every request, and answers those two paths itself: the
per-IP limit, the body read, pydantic validation of the same model, the work, the JSON
answer. What it raises (CssecError, RequestValidationError, OperationalError, anything
else) is answered by the app's own exception handlers, so every error body is the
documented one.

What that skips, per request: FastAPI's and Starlette's middleware stack, router and
dependency solver, a thread-pool hop for each sync dependency and for the route, and the
Request/Response objects (docs/performance.md has the figures). An ActiveUpdate manifest
whose entitlement and manifest are both in this worker's caches (the common case: a fleet
polls hourly) touches neither a thread nor the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cssec.core.codes import ActivationCode
from cssec.core.components import COMPONENT_FILENAMES, ComponentVersion
from cssec.vendor_service.activeupdate.api import (
    IMMUTABLE,
    ManifestRequest,
    _etag_matches,
    accel_redirect,
    manifest_envelope,
)
from cssec.vendor_service.activeupdate.services import (
    authorize_component,
    cached_entitlement,
    component_file,
    entitle,
)
from cssec.vendor_service.activeupdate.store import SHA256_HEX
from cssec.vendor_service.api.schemas import StatusRequest
from cssec.vendor_service.api.status import status_envelope
from cssec.vendor_service.hotdb import HotReader, hot_reader_for
from cssec.vendor_service.metrics import FILE_ROUTE, VERDICT_KEY
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.status import (
    CodeFacts,
    RevokedCode,
    UnknownCode,
    answer_status,
    code_facts_from_row,
    invalid_refusal,
    revocation_refusal,
    standing_at,
    verify_code,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
ASGIHandler = Callable[[Scope, Receive, Send], Awaitable[None]]


def hot_routes(app: FastAPI, vendor: Vendor, fallback: ASGIApp) -> HotRoutes:
    """The dispatcher in front of the app (`cssec.vendor_service.app.VendorApp`): the status and
    manifest paths answered here, everything else passed to `fallback` (the FastAPI app).
    The declared FastAPI routes of the same paths stay in the OpenAPI document and call the
    same work functions (`status_envelope`, `manifest_envelope`).

    Sets `app.state.hot_reader`, the `cssec.vendor_service.hotdb` reader the lifespan opens and
    closes.
    """
    reader = hot_reader_for(
        vendor.engine.url.render_as_string(hide_password=False),
        max_size=vendor.settings.hot_pool_size,
    )
    app.state.hot_reader = reader
    routes = {
        "/api/v1/status": _status_handler(vendor, reader),
        "/api/v1/activeupdate/manifest": _manifest_handler(vendor, reader),
    }
    files = None
    if vendor.settings.accel_redirect_prefix:
        files = _file_handler(vendor, reader, fallback, vendor.settings.accel_redirect_prefix)
    return HotRoutes(fallback, routes, app.exception_handlers, files=files)


class HotRoutes:
    """`POST` to one of `routes` goes to its handler; anything else to `app`. An exception
    the handler raises is answered by the first of `handlers` (the app's exception
    handlers, a live dict) registered for its class or a base class: the documented error
    bodies, down to the 500 of the catch-all handler for Exception."""

    def __init__(
        self,
        app: ASGIApp,
        routes: dict[str, ASGIHandler],
        handlers: dict[Any, Any],
        *,
        files: ASGIHandler | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.handlers = handlers
        self.files = files  # GET FILES_PREFIX…: `_file_handler`, with X-Accel-Redirect only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = None
        if scope["type"] == "http":
            if scope["method"] == "POST":
                handler = self.routes.get(scope["path"])
            elif scope["path"].startswith(FILES_PREFIX) and scope["method"] in ("GET", "HEAD"):
                handler = self.files
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            await handler(scope, receive, send)
        except Exception as exc:
            on_error = self._handler_for(exc)
            if on_error is None:
                raise
            response = await on_error(Request(scope, receive), exc)
            await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Any:
        for cls in type(exc).__mro__:
            found = self.handlers.get(cls)
            if found is not None:
                return found
        return None


def _status_handler(vendor: Vendor, reader: HotReader) -> ASGIHandler:
    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        _hit_limit(vendor, scope, "status", vendor.settings.status_rate_limit)
        body = await _read_model(StatusRequest, scope, receive)
        request_id = _request_id(vendor, scope)
        if reader.is_open:
            keyring = vendor.keyring
            try:
                code, facts = await _read_facts(reader, body.activation_code, vendor)
            except UnknownCode as unknown:
                raise invalid_refusal(
                    unknown, server_id=body.server_id, nonce=body.nonce, keyring=keyring,
                    now=vendor.clock.now(),
                ) from None  # fmt: skip
            except RevokedCode as revoked:
                refusal = revocation_refusal(
                    revoked, server_id=body.server_id, nonce=body.nonce, keyring=keyring,
                    now=vendor.clock.now(), status_log=vendor.status_log,
                    seats_used=body.seats_used, request_id=request_id,
                )  # fmt: skip
                await vendor.status_log.committed()  # durable mode: the row first
                raise refusal from None
            standing = standing_at(code, facts, vendor.clock.now())
            envelope = answer_status(
                standing, body.server_id, keyring, vendor.status_log, nonce=body.nonce,
                seats_used=body.seats_used, request_id=request_id,
            )  # fmt: skip
        else:
            envelope = await _blocking(vendor, lambda: status_envelope(vendor, body))
        await vendor.status_log.committed()  # durable mode: the history row first
        scope[VERDICT_KEY] = envelope["statement"]["state"]  # counted by VendorMetrics
        await _send_json(send, _encode(envelope))

    return handle


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def _request_id(vendor: Vendor, scope: Scope) -> str | None:
    """nginx's X-Request-Id (`$request_id`, the same when it retries the request on another
    node), recorded with the check so a retried check is written once. Only behind a proxy
    (CSSEC_VENDOR_TRUSTED_PROXIES set), and only a plain token of at most 64 characters."""
    if vendor.settings.trusted_proxies is None:
        return None
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            raw = bytes(value)
            return raw.decode("ascii") if _REQUEST_ID.fullmatch(raw) else None
    return None


def _manifest_handler(vendor: Vendor, reader: HotReader) -> ASGIHandler:
    store = vendor.activeupdate
    encoded: dict[int, tuple[dict[str, Any], bytes]] = {}

    def answer(envelope: dict[str, Any]) -> bytes:
        # The cached envelope is one shared object per (serial, kid): encode it once.
        memo = encoded.get(id(envelope))
        if memo is not None and memo[0] is envelope:
            return memo[1]
        data = _encode(envelope)
        encoded.clear()
        encoded[id(envelope)] = (envelope, data)
        return data

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        _hit_limit(vendor, scope, "activeupdate_manifest", vendor.settings.activeupdate_rate_limit)
        body = await _read_model(ManifestRequest, scope, receive)
        now = vendor.clock.now()
        entitled = cached_entitlement(
            body.activation_code, keys=vendor.keyring, store=store, now=now
        )
        if entitled is None and reader.is_open:
            code, facts = await _read_facts(reader, body.activation_code, vendor)
            entitled = entitle(code, facts, now=now, store=store)
        envelope = None
        if entitled is not None:
            envelope = store.cache.fresh(
                vendor.keyring.signing_key.kid, now, store.published_stamp()
            )
        if envelope is None:
            envelope = await _blocking(vendor, lambda: manifest_envelope(vendor, body))
        await _send_json(send, answer(envelope))

    return handle


FILES_PREFIX = "/api/v1/activeupdate/files/"
_FILE_ROUTE = SimpleNamespace(path=FILE_ROUTE)  # what the metrics middleware reads


def _file_handler(vendor: Vendor, reader: HotReader, fallback: ASGIApp, prefix: str) -> ASGIHandler:
    """`GET /api/v1/activeupdate/files/{sha256}` behind nginx (X-Accel-Redirect): the same
    license check as `activeupdate.api.get_file`, then the header that makes nginx send
    the file. Entitlements come from the worker's cache or the hot reader, and a published
    file's row (content-addressed, never changes) is looked up once per worker. Anything
    unusual (no or over-long headers, a malformed hash, an app without a lifespan) goes to
    the FastAPI route, which words every refusal."""
    store = vendor.activeupdate
    published: dict[str, tuple[Path, ComponentVersion]] = {}

    def lookup(sha256: str) -> tuple[Path, ComponentVersion]:
        with vendor.session() as session, read_transaction(session):
            return component_file(session, sha256)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        sha256 = scope["path"][len(FILES_PREFIX) :]
        headers = dict(scope["headers"])
        code = bytes(headers.get(b"x-cssec-activation-code", b"")).decode("latin-1").strip()
        server = headers.get(b"x-cssec-server-id", b"")
        if (
            not reader.is_open
            or not code
            or len(code) > 100
            or len(server) > 128
            or not SHA256_HEX.fullmatch(sha256)
        ):
            await fallback(scope, receive, send)
            return
        scope["route"], scope["path_params"] = _FILE_ROUTE, {"sha256": sha256}
        _hit_limit(vendor, scope, "activeupdate_files", vendor.settings.activeupdate_rate_limit)
        now = vendor.clock.now()
        entitled = cached_entitlement(code, keys=vendor.keyring, store=store, now=now)
        if entitled is None:
            checked, facts = await _read_facts(reader, code, vendor)
            entitled = entitle(checked, facts, now=now, store=store)  # raises the refusals
        found = published.get(sha256)
        if found is None:
            found = published[sha256] = await _blocking(vendor, lambda: lookup(sha256))
        path, version = found
        authorize_component(entitled, version.component)  # the template: a live DCS code
        answer_headers = {"ETag": f'"{version.sha256}"', "Cache-Control": IMMUTABLE}
        match = headers.get(b"if-none-match")
        if _etag_matches(None if match is None else bytes(match).decode("latin-1"), sha256):
            response = Response(status_code=304, headers=answer_headers)
        else:
            filename = COMPONENT_FILENAMES[version.component]
            response = accel_redirect(prefix, path, answer_headers, filename=filename)
        await response(scope, receive, send)

    return handle


async def _read_facts(
    reader: HotReader, activation_code: str, vendor: Vendor
) -> tuple[ActivationCode, CodeFacts]:
    """`services.status.read_code_facts`, read through the hot reader
    (`cssec.vendor_service.hotdb`)."""
    check = verify_code(activation_code, vendor.keyring)
    assert check.value is not None  # verify_code raised for a typo
    row = await reader.code_facts_row(check.value.text)
    return code_facts_from_row(activation_code, check, row)


async def _blocking(vendor: Vendor, work: Callable[[], T]) -> T:
    """Run synchronous database work (through `Vendor.retrying`): the paths the hot reader
    does not cover (a manifest to sign, an app without a lifespan). On SQLite, in the event
    loop: a WAL read never waits for a lock, it is local CPU work, and a thread-pool hop
    costs more than it does (status checks: about 1,500 -> 2,500-2,900 req/s, same run).
    On PostgreSQL, in the thread pool: the read waits for another process, and the loop
    serves other requests meanwhile."""
    if vendor.engine.dialect.name == "sqlite":
        return vendor.retrying(work)
    return await anyio.to_thread.run_sync(vendor.retrying, work)


def _hit_limit(vendor: Vendor, scope: Scope, bucket: str, limit: str) -> None:
    client = scope.get("client")
    vendor.limiter.hit(limit, bucket, client[0] if client else "unknown")


async def _read_model(model: type[M], scope: Scope, receive: Receive) -> M:
    """The JSON body validated as `model`, refused as FastAPI refuses it: 422 for a missing,
    non-JSON or invalid body (RequestValidationError, so the same handler words it)."""
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    raw = b"".join(chunks)
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    if not _is_json(scope):
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",),
              "msg": "Input should be a valid JSON object", "input": None}]
        )  # fmt: skip
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _is_json(scope: Scope) -> bool:
    """No Content-Type, or application/json or application/*+json (FastAPI's rule)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = bytes(value).split(b";", 1)[0].strip().lower()
            kind, _, subtype = media.partition(b"/")
            is_json: bool = subtype == b"json" or subtype.endswith(b"+json")
            return kind == b"application" and is_json
    return True


def _encode(content: Any) -> bytes:
    # As starlette.responses.JSONResponse renders.
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


async def _send_json(send: Send, body: bytes) -> None:
    headers = [
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
