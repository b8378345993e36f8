"""Air-gapped renewal by file: the vendor's answer to a server's signed request.

`respond` is the one implementation behind `cssec vendor license respond`, the console's
upload and the customer portal's: it checks the request (`core.license_files`), then signs
for each of its codes the same status statement an online check gets
(`services.status`), bound to the request by its nonce and digest, and records each in the
status-check history as a check of that server (with the seats it reported) and the whole
answer in the audit log. A revoked code is answered with the signed "revoked" statement an
online check gets, so the server marks it 失効 the same way; a well-formed code we did not
issue, with the signed "invalid" statement (`status.invalid_refusal`), so the server marks
it 無効 (rejected) the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from cssec.core.license_files import (
    InvalidLicenseRequest,
    LicenseRequestFile,
    build_response,
    parse_request,
)
from cssec.core.signing import sign_statement
from cssec.vendor_service.services._context import clock_of, keyring_of, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.status import (
    REVOKED_STATE,
    RevokedCode,
    UnknownCode,
    _check_row,
    _statement,
    invalid_refusal,
    read_code_facts,
    standing_at,
    verify_code,
)
from cssec.vendor_service.services.status_log import INSERT_CHECK, watch_seats

AUDIT_ACTION = "license.offline_responded"


def respond(session: Session, request_bytes: bytes, *, actor: str, now: datetime) -> bytes:
    """The response file's bytes for a request file's bytes, or a CssecError:
    InvalidLicenseRequest (not a request, altered, unsigned), InvalidActivationCode for a
    mistyped code. A well-formed code we did not issue is answered with a signed "invalid"
    statement bound to the request (no history row). Owns its transaction; `now` dates the
    statements and the history rows (the vendor's UTC time)."""
    request = parse_request(request_bytes)
    now = now.astimezone(UTC)
    keyring = keyring_of(session)
    statements: list[dict[str, Any]] = []
    summary: list[dict[str, str]] = []
    with transaction(session):
        connection = session.connection()
        for requested in request.codes:
            check = verify_code(requested.activation_code, keyring)
            try:
                code, facts = read_code_facts(connection, requested.activation_code, check)
                revoked_at: datetime | None = None
            except RevokedCode as revoked:
                code, facts, revoked_at = revoked.activation_code, revoked.facts, revoked.revoked_at
            except UnknownCode as unknown:
                if unknown.activation_code.product.value != requested.product:
                    raise InvalidLicenseRequest(reason="wrong_product") from None
                refusal = invalid_refusal(
                    unknown, server_id=request.server_id, nonce=request.nonce, keyring=keyring,
                    now=now, request_sha256=request.digest,
                )  # fmt: skip
                statements.append(refusal.fields["refusal"])
                summary.append({"product": requested.product, "code": unknown.activation_code.text,
                                "state": "invalid"})  # fmt: skip
                continue
            if facts.product != requested.product:
                raise InvalidLicenseRequest(reason="wrong_product")
            standing = standing_at(code, facts, now)
            statement = _statement(standing, request.server_id, request.nonce)
            statement["request_sha256"] = request.digest
            state = standing.state.value
            if revoked_at is not None:
                state = statement["state"] = REVOKED_STATE
                statement["revoked_at"] = revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            statements.append(sign_statement(statement, keyring.signing_key))
            row = _check_row(standing, request.server_id, state, seats_used=request.seats_used)
            if request.seats_used is not None:
                watch_seats(connection, [row], clock_of(session))
            connection.execute(INSERT_CHECK, row)
            summary.append({"product": facts.product, "code": code.text, "state": state})
        entry = record_audit(
            session,
            actor=actor,
            action=AUDIT_ACTION,
            target=f"server:{request.server_id}",
            before=None,
            after=_audit_after(request, summary),
        )
        entry.at = now
    return build_response(
        request, statements, keys=keyring.verifying_keys, endorsements=keyring.endorsements()
    )


def _audit_after(request: LicenseRequestFile, summary: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "request_sha256": request.digest,
        "nonce": request.nonce,
        "server_key": request.server_key.kid,
        "seats_used": request.seats_used,
        "requested_at": request.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "codes": summary,
    }


__all__ = ["AUDIT_ACTION", "respond"]
