"""Codes: issue a replacement, inspect, preview a revocation, revoke.

A revocation covers the code and every code it superseded (its lineage,
`services.lineage`): the preview lists exactly what the revoke will change, and the
revoke answers what it changed.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from cssec.vendor_service import services
from cssec.vendor_service.api.admin.conventions import (
    IdempotencyKey,
    IdPath,
    documented,
    idempotent,
    linked,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import (
    CoveredCodeOut,
    InspectionOut,
    ReissuedOut,
    ReissueIn,
    RevocationPreviewOut,
    RevokedOut,
    RevokeIn,
)
from cssec.vendor_service.api.schemas import _code_text
from cssec.vendor_service.api_errors import InsufficientScope
from cssec.vendor_service.errors import RevocationLiftNotRequested, RevocationNeedsAdmin
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.lineage import revocation_preview
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: codes"])

CodePath = Annotated[
    str,
    AfterValidator(_code_text),
    Path(
        min_length=1,
        max_length=100,
        description="An activation code (hyphens optional; any typing is forgiven), or for "
        "inspection a registration key.",
    ),
]


def preview_of(session: Session, code: str) -> RevocationPreviewOut:
    """`services.lineage.revocation_preview`: the code and the codes it superseded."""
    with read_transaction(session):
        found = revocation_preview(session, code)
        codes = [
            CoveredCodeOut(
                activation_code=c.code,
                product=c.product,
                contract_id=c.contract_id,
                expires_on=c.expires_on,
                issued_at=c.issued_at,
                revoked_at=c.revoked_at,
                is_target=c.is_target,
            )
            for c in found.codes
        ]
    return RevocationPreviewOut(codes=codes, to_revoke=[c.code for c in found.to_revoke])


@router.post(
    "/contracts/{contract_id}/codes",
    status_code=201,
    response_model=ReissuedOut,
    summary="Issue a replacement code",
    description="A new activation code carrying the contract's current end, for an offline "
    "renewal (`cssec vendor code reissue`). The previous code stays valid online; "
    "registration hands out the new one. Audited as code.reissued.",
    responses={
        **documented(409),
        **linked(
            201,
            inspect={"code": "$response.body#/activation_code"},
            preview={"code": "$response.body#/activation_code"},
            revoke={"code": "$response.body#/activation_code"},
            get_contract={"contract_id": "$response.body#/contract_id"},
        ),
    },
)
def reissue(
    contract_id: IdPath,
    body: ReissueIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("codes:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if body.lift_revocation and "codes:revoke" not in principal.scopes:
        raise InsufficientScope(name=principal.name, scope="codes:revoke")

    def work() -> tuple[int, ReissuedOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            try:
                code = services.issue_replacement_code(
                    session,
                    contract_id,
                    product=body.product,
                    actor=principal.actor,
                    lift_revocation=body.lift_revocation,
                )
            except RevocationNeedsAdmin as refused:  # the remedy here is the flag
                raise RevocationLiftNotRequested(**refused.fields) from None
        out = ReissuedOut(contract_id=contract_id, product=body.product, activation_code=code)
        return 201, out, {}

    return idempotent(request, principal, idempotency_key, body, work)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


@router.get(
    "/codes/{code}",
    response_model=InspectionOut,
    summary="Inspect a code or key",
    description="Valid, invalid (where and why), expired or revoked, with its contract "
    "(`cssec vendor code inspect`). Never an error for a bad code: the verdict says it.",
    responses=documented(),
)
def inspect(
    code: CodePath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("codes:read"))],
) -> InspectionOut:
    with vendor_of(request).session() as session, read_transaction(session):
        found = services.inspect_code(session, code)
    fields = {k: _jsonable(v) for k, v in dataclasses.asdict(found).items()}
    fields.pop("text", None)
    return InspectionOut(**fields)


@router.get(
    "/codes/{code}/revocation-preview",
    response_model=RevocationPreviewOut,
    summary="Preview what revoking a code covers",
    description="The code and every code it superseded, oldest first; `to_revoke` is what "
    "a revoke would change. Read-only.",
    responses=documented(),
)
def preview(
    code: CodePath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("codes:read"))],
) -> RevocationPreviewOut:
    with vendor_of(request).session() as session:
        return preview_of(session, code)


@router.post(
    "/codes/{code}/revoke",
    response_model=RevokedOut,
    summary="Revoke a code (and the codes it superseded)",
    description="Status checks then answer revoked_activation_code with a signed revocation, "
    "and registration stops handing the codes out (`cssec vendor code revoke`). Revoking "
    "revoked codes changes nothing. Audited as code.revoked, once per code.",
    responses=documented(),
)
def revoke(
    code: CodePath,
    body: RevokeIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("codes:revoke"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> tuple[int, RevokedOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            done = services.revoke_code(session, code, actor=principal.actor, reason=body.reason)
            after = preview_of(session, code)
        return 200, RevokedOut(revoked=list(done.revoked_now), preview=after), {}

    return idempotent(request, principal, idempotency_key, body, work)
