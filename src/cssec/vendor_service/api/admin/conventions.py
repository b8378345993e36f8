"""What every admin API route shares: the token, its scope and rate limit, cursors, ETags,
Idempotency-Key, and the error answers the OpenAPI document declares.

Tokens only: the API reads the Authorization header and never a cookie (the console's
cookie is scoped to /console anyway), so no browser can be tricked into calling it.

If-Match is compared with the ETag of the contract read, locked, in the transaction the
update then runs in (`contracts.check_locked`): nothing can change it in between.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel
from sqlalchemy import Select, select

from cssec.core.errors import CssecError, RateLimited
from cssec.vendor_service.api.schemas import EXAMPLES, ErrorBody, _plain_text
from cssec.vendor_service.api_errors import (
    AdminNotFound,
    ApiTokenExpired,
    ApiTokenRequired,
    ApiTokenRevoked,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InsufficientScope,
    InvalidApiToken,
    InvalidCursor,
    PreconditionFailed,
    PreconditionRequired,
)
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import idempotency
from cssec.vendor_service.services.api_activity import ActivityLog
from cssec.vendor_service.services.tokens import Principal, authenticate_token
from cssec.web.http import client_ip, error_response
from cssec.web.i18n import current_language

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token (`cssec vendor token create`): Authorization: Bearer cssec_…",
)
REFUSED_LIMIT = "30/minute"
"""Per client address: presented tokens that are not valid."""
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _text_or_none(value: str | None) -> str | None:
    """Query text goes into SQL: no control characters (PostgreSQL refuses NUL outright)."""
    return None if value is None else _plain_text(value)


QueryText = Annotated[str | None, Query(max_length=200), AfterValidator(_text_or_none)]
"""A free-text query parameter (search, filters): 422 on control characters."""


def vendor_of(request: Request) -> Vendor:
    vendor: Vendor = request.app.state.vendor
    return vendor


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    vendor = vendor_of(request)
    if credentials is None or not credentials.credentials:
        raise ApiTokenRequired()
    try:
        with vendor.session() as session:
            principal = authenticate_token(
                session, credentials.credentials, touch=activity_of(request).touch
            )
    except (InvalidApiToken, ApiTokenExpired, ApiTokenRevoked):
        vendor.limiter.hit(REFUSED_LIMIT, "admin-api-bad-token", client_ip(request))
        raise
    vendor.limiter.hit(vendor.settings.admin_api_rate_limit, "admin-api", str(principal.token_id))
    request.state.principal = principal
    return principal


def scoped(scope: str, *, audit_read: bool = True) -> Callable[..., Principal]:
    """A dependency: the caller's principal, when its token holds `scope`.

    Every call with a valid token is in the audit log under token:<name>: a change by the
    use case's own row (contract.renewed, code.revoked …), a read as api.read (the path
    and query: who looked at which keys and contacts), a call outside the token's scopes
    as api.refused. `audit_read=False` for a read that writes its own row."""

    def _check(principal: Annotated[Principal, Depends(_principal)], request: Request) -> Principal:
        if scope not in principal.scopes:
            _audit(request, principal, "api.refused", {"scope": scope})
            raise InsufficientScope(name=principal.name, scope=scope)
        if audit_read and request.method == "GET":
            _audit(request, principal, "api.read", {})
        return principal

    return _check


def _audit(request: Request, principal: Principal, action: str, after: dict[str, Any]) -> None:
    """Queued, not written in the request (`services.api_activity`: a read never waits
    for the write lock)."""
    query = request.url.query
    activity_of(request).audit(
        at=vendor_of(request).clock.now(),
        actor=principal.actor,
        action=action,
        target=request.url.path,
        after={"method": request.method, **({"query": query[:500]} if query else {}), **after},
    )


def activity_of(request: Request) -> ActivityLog:
    activity: ActivityLog = request.app.state.api_activity
    return activity


# --- Cursors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageAsk:
    """What every list takes: the `cursor` a previous page gave, and how many to show."""

    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (default 50).")] = 50

    def after_id(self) -> int:
        """The last id the previous page showed (0 on the first page)."""
        return decode_cursor(self.cursor, "id") or 0

    def offset(self) -> int:
        """Where the page starts in a list read whole (0 on the first page)."""
        return decode_cursor(self.cursor, "offset") or 0


Paging = Annotated[PageAsk, Depends()]
"""The `cursor` and `limit` query parameters of a list route."""


def newest_first(model: Any, paging: PageAsk) -> Select[Any]:
    """`select(model)` newest first by id, from past the cursor, one row more than a page
    (so that `Page.of` knows whether there is a next one)."""
    query = select(model).order_by(model.id.desc()).limit(paging.limit + 1)
    return query.where(model.id < paging.after_id()) if paging.cursor else query


def encode_cursor(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, field: str) -> int | None:
    """The position a cursor holds (an id, or an offset), None for the first page."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)[field]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise InvalidCursor()
    return value


def next_by_id(rows: Sequence[Any], limit: int) -> str | None:
    """For lists read `limit + 1` rows newest first: the cursor after the page, if any."""
    return encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None


# --- ETag / If-Match -----------------------------------------------------------------------


def etag_of(representation: dict[str, Any]) -> str:
    canonical = json.dumps(representation, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:16] + '"'


def check_if_match(if_match: str | None, current: str) -> None:
    """428 without If-Match (an update must say what it read), 412 when it is stale."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired()
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(etag=current)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The ETag of the GET this update is based on (required: 428 without, "
        "412 when the resource changed since).",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Any unique string (a UUID): a retry with the same key and body gets "
        "the first answer again (header Idempotent-Replayed: true); the same key with "
        "another body is refused (422 idempotency_key_reused). Kept 24 hours.",
    ),
]

_KEEP = frozenset({200, 201, 202, 400, 404, 409, 422})
"""Answers worth replaying: outcomes of the request itself, not of the caller's state
(401, 403, 429) nor of a stale If-Match (412, 428: a retry with a fresh ETag may run)."""


def idempotent(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[], tuple[int, BaseModel, dict[str, str]]],
) -> Response:
    """Run `work` (status, body, headers) once per Idempotency-Key, replaying its answer."""
    if key is None:
        status, model, headers = work()
        return JSONResponse(model.model_dump(mode="json"), status_code=status, headers=headers)
    vendor = vendor_of(request)
    sent = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    fingerprint = idempotency.request_fingerprint(request.method, request.url.path, sent)
    with vendor.session() as session:
        stored = idempotency.begin(
            session, token_id=principal.token_id, key=key, fingerprint=fingerprint
        )
    if stored is not None:
        headers = {**stored.headers, "Idempotent-Replayed": "true"}
        return Response(
            stored.body, stored.status_code, headers=headers, media_type="application/json"
        )
    try:
        status, model, headers = work()
        response: Response = JSONResponse(
            model.model_dump(mode="json"), status_code=status, headers=headers
        )
    except CssecError as exc:
        response = error_response(exc, current_language.get())
        if exc.status not in _KEEP:
            _finish(vendor, principal, key, None)
            raise
    except BaseException:
        _finish(vendor, principal, key, None)
        raise
    kept = {k: v for k, v in response.headers.items() if k.lower() in {"etag", "location"}}
    answer = idempotency.StoredAnswer(response.status_code, bytes(response.body).decode(), kept)
    _finish(vendor, principal, key, answer)
    return response


def _finish(
    vendor: Vendor, principal: Principal, key: str, answer: idempotency.StoredAnswer | None
) -> None:
    with vendor.session() as session:
        idempotency.finish(session, token_id=principal.token_id, key=key, answer=answer)


# --- Declared answers ----------------------------------------------------------------------


def _example(error: CssecError) -> dict[str, Any]:
    return {"summary": error.code, "value": error.to_dict("en")}


_ERRORS: dict[int, tuple[str, list[dict[str, Any]]]] = {
    400: (
        "A malformed cursor, Idempotency-Key, code or key.",
        [_example(InvalidCursor()), EXAMPLES["invalid_activation_code"]],
    ),
    401: (
        "No token, or a token that is unknown, expired or revoked.",
        [
            _example(ApiTokenRequired()),
            _example(InvalidApiToken()),
            _example(ApiTokenExpired(name="billing", expired_at="2026-12-01T00:00:00+00:00")),
            _example(ApiTokenRevoked(name="billing", revoked_at="2026-12-01T00:00:00+00:00")),
        ],
    ),
    403: (
        "The token lacks the scope this call needs.",
        [_example(InsufficientScope(name="billing", scope="codes:revoke"))],
    ),
    404: (
        "No such resource.",
        [_example(AdminNotFound(what_ja="契約", what_en="contract", ref="#12"))],
    ),
    409: (
        "The request conflicts with the current state (or its key's first request still runs).",
        [_example(IdempotencyKeyInProgress(key="6d1f…"))],
    ),
    412: (
        "If-Match does not match the current ETag.",
        [_example(PreconditionFailed(etag='"3f9a"'))],
    ),
    413: ("The request body is too large.", [EXAMPLES["request_too_large"]]),
    422: (
        "The body is not the documented JSON, a term is out of range, or the "
        "Idempotency-Key was used with another body.",
        [EXAMPLES["validation_error"], _example(IdempotencyKeyReused(key="6d1f…"))],
    ),
    428: ("If-Match is missing on an update.", [_example(PreconditionRequired())]),
    429: (
        "Too many requests with this token; see Retry-After.",
        [_example(RateLimited(retry_after=7))],
    ),
}
COMMON = (400, 401, 403, 404, 413, 422, 429)


def documented(*extra: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the common errors and `extra` ones, each with examples."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*COMMON, *extra}):
        description, examples = _ERRORS[status]
        out[status] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"examples": {e["summary"]: e for e in examples}}},
        }
    return out


def linked(status: int, **targets: dict[str, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from the `status` answer to other operations (by operation id, each
    with its parameters as runtime expressions): what a client, or schemathesis's
    stateful tests, can call next with the values this answer holds."""
    links = {
        name: {"operationId": f"admin_{name}", "parameters": parameters}
        for name, parameters in targets.items()
    }
    return {status: {"links": links}}


def not_found(what_ja: str, what_en: str, ref: object) -> AdminNotFound:
    return AdminNotFound(what_ja=what_ja, what_en=what_en, ref=str(ref))
