"""JSON API of the license slots (DESIGN.md): HTTP Basic as `admin`, or the Web manager
session (unsafe methods then need the X-CSRF-Token header)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field

from cssec.core.errors import NotAuthenticated
from cssec.server.licensing.activation import activate_code
from cssec.server.licensing.online_check import check_status_online, describe_outcomes
from cssec.server.licensing.view import read_licenses
from cssec.server.models import User
from cssec.server.webmanager.deps import session_user, sign_in
from cssec.server.webmanager.templating import ctx_of
from cssec.web.http import client_ip
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf

router = APIRouter(prefix="/api/v1", tags=["licenses"])
basic = HTTPBasic(auto_error=False, description="`admin` and the Web manager password")
CSRF_HEADER = "X-CSRF-Token"
BASIC_LIMIT_PER_IP = "60/minute"


class License(BaseModel):
    product: Literal["CS", "DCS"]
    product_name: str = Field(description="In the request's language")
    version_type: str = Field(description="In the request's language (製品版 / Full version)")
    activation_code: str = Field(description="XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
    status: Literal[
        "activated", "grace_period", "expired", "revoked", "rejected", "unconfirmed"
    ] = Field(
        description="`unconfirmed`: accepted offline on its format and check character, not "
        "yet confirmed by the license server (refuses nothing). `revoked` / `rejected`: the "
        "license server signed that the code is revoked / not one it issued."
    )
    stopped: list[str] = Field(
        description="The operations this slot refuses now (core.policy), the same list the "
        "Web manager's banner shows and the gates enforce; empty while nothing is refused."
    )
    expires_on: date
    seats: int = Field(description="Seats of the license (clients it covers)")
    seats_used: int = Field(
        description="Clients seen within the seat window (default 30 days). Informational: "
        "client install keeps working above the seats."
    )


class ActivationCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activation_code: str = Field(min_length=1, max_length=200)
    confirm: bool = Field(
        False,
        description="Needed only when the new code would lower a live license (an earlier "
        "expiry, fewer seats, or another contract than the current code's). Without it such a "
        "code is refused with 409 `confirmation_required`, whose `changes` list what would "
        "change; nothing is changed until the request is sent again with `confirm: true`.",
    )


class ApiError(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "not_authenticated / login_failed"},
    403: {"model": ApiError, "description": "csrf_failed / revoked_activation_code"},
    422: {"model": ApiError, "description": "validation_error"},
    429: {"model": ApiError, "description": "rate_limited / account_locked"},
}


async def api_user(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]
) -> User:
    """HTTP Basic (the Web manager's lockout applies), else the Web manager session. A 401
    carries `WWW-Authenticate: Basic` (`cssec.server.app`'s error mapping)."""
    if credentials is not None:
        ctx_of(request).limiter.hit(BASIC_LIMIT_PER_IP, "api-basic", client_ip(request))
        return await sign_in(request, credentials.username, credentials.password)
    user = session_user(request)
    if user is None:
        raise NotAuthenticated()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        check_csrf(request, request.headers.get(CSRF_HEADER, ""))
    return user


def _licenses(request: Request) -> list[dict[str, Any]]:
    ctx = ctx_of(request)
    lang = current_language.get()
    with ctx.sessionmaker() as session:
        licenses = read_licenses(
            session,
            now=ctx.clock.now(),
            tz=ctx.tz,
            seat_window_days=ctx.settings.seat_window_days,
        )
    return [slot.to_api(lang) for slot in licenses.slots]


@router.get("/licenses", response_model=list[License], responses=ERRORS)
async def list_licenses(
    request: Request, user: Annotated[User, Depends(api_user)]
) -> list[dict[str, Any]]:
    """Every license slot; status is computed now from the expiry and the clock."""
    return _licenses(request)


@router.post(
    "/licenses/activation-code",
    response_model=License,
    responses={
        **ERRORS,
        400: {
            "model": ApiError,
            "description": "invalid_activation_code / expired_activation_code / wrong_product",
        },
        409: {
            "model": ApiError,
            "description": (
                "confirmation_required: the code would lower a live license; the body's "
                "`changes` ([{field, before, after, worse}]) say how. Send again with "
                '`"confirm": true` to replace it anyway. vendor_confirmation_required: the '
                "product's slot holds the license server's signed revocation or refusal, and "
                "the new code could not be confirmed by it (unreachable, or an answer that "
                "does not verify); nothing changed."
            ),
        },
    },
)
async def post_activation_code(
    request: Request, body: ActivationCodeIn, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    """Enter a new activation code; the slot of the code's product is replaced at once. A code
    that would lower a live license (earlier expiry, fewer seats, another contract) needs
    `"confirm": true`."""
    ctx = ctx_of(request)
    slot = await activate_code(
        ctx.license_env(), body.activation_code, actor=user.username, confirm=body.confirm
    )
    return slot.to_api(current_language.get())


@router.post(
    "/licenses/check-online",
    response_model=list[License],
    responses={
        **ERRORS,
        400: {
            "model": ApiError,
            "description": (
                "invalid_activation_code with reason rejected_by_vendor: the license server "
                "signed that it never issued a slot's code; that slot is now `rejected` (see "
                "`licenses`). A 403 revoked_activation_code is the same for a revocation."
            ),
        },
        502: {
            "model": ApiError,
            "description": (
                "vendor_unreachable / untrusted_statement: the licenses are unchanged; the body "
                "carries `licenses` (the slots) and `results` (per product)"
            ),
        },
    },
)
async def post_check_online(
    request: Request, user: Annotated[User, Depends(api_user)]
) -> list[dict[str, Any]]:
    """Ask the vendor for every slot's status; returns the slots after the check."""
    ctx = ctx_of(request)
    outcomes = await check_status_online(ctx.license_env(), actor=user.username)
    failed = next((o for o in outcomes if o.error is not None), None)
    if failed is not None and failed.error is not None:
        error = failed.error
        error.fields["licenses"] = _licenses(request)
        error.fields["results"] = describe_outcomes(outcomes)
        raise error
    return _licenses(request)
