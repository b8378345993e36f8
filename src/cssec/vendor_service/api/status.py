"""POST /api/v1/status: a signed statement about an activation code's contract."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cssec.vendor_service.api.deps import get_vendor, rate_limit
from cssec.vendor_service.api.schemas import (
    COMMON_ERRORS,
    StatusRequest,
    StatusResponse,
    error_responses,
)
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import issue_status_statement

router = APIRouter(tags=["status"])


@router.post(
    "/status",
    response_model=None,
    summary="Get a signed status statement for an activation code",
    description=(
        "Verifies the code's MAC, finds its contract and answers an Ed25519-signed "
        "statement with the contract's current end (renewals move it), grace end, state "
        "and seats. An expired contract still gets a statement (state `expired`). The "
        "request's `nonce` is echoed inside the statement, so a server can refuse a replayed "
        "answer. The optional `seats_used` (clients the server counts as in use) is recorded "
        "in the status-check history. Verify it with a key from `GET /api/v1/keys`."
    ),
    responses={
        200: {"model": StatusResponse, "description": "The signed envelope."},
        **error_responses(
            (
                400,
                "Malformed (typo), or not a code we issued (reason `mac_failed`). For a "
                "well-formed code we did not issue, the body's `refusal` is a signed "
                "statement with state `invalid`, bound to the server, the code and the nonce.",
                ["invalid_activation_code", "mac_failed"],
            ),
            (
                403,
                "The code was revoked. The body's `revocation` is a signed statement with "
                "state `revoked`, bound to the server, the code and the nonce.",
                ["revoked_activation_code"],
            ),
            *COMMON_ERRORS,
        ),
    },
    dependencies=[Depends(rate_limit("status", "status_rate_limit"))],
)
def post_status(
    body: StatusRequest, vendor: Annotated[Vendor, Depends(get_vendor)]
) -> JSONResponse:
    # Served by `cssec.vendor_service.api.hot` (a plain route in front of this one); this one
    # documents it. Returned as built: the signed statement must reach the server
    # byte-for-byte in meaning, not re-serialised through a response model.
    return JSONResponse(vendor.retrying(lambda: status_envelope(vendor, body)))


def status_envelope(vendor: Vendor, body: StatusRequest) -> dict[str, Any]:
    """The signed status envelope for one request (blocking: database and signature)."""
    with vendor.session() as session:
        try:
            return issue_status_statement(
                session,
                body.activation_code,
                server_id=body.server_id,
                nonce=body.nonce,
                seats_used=body.seats_used,
            )
        finally:
            vendor.status_log.wait_committed()  # durable mode: the history row first
