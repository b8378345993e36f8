"""The audit log (read, filter) and the seat usage servers report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator

from cssec.vendor_service.api.admin.conventions import (
    IdPath,
    Paging,
    QueryText,
    activity_of,
    documented,
    newest_first,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import AuditOut, OverSeatsOut, Page, ServerUsageOut
from cssec.vendor_service.console.usage import (
    OverSeats,
    ServerUsage,
    contract_usage,
    contracts_over_seats,
)
from cssec.vendor_service.models import AuditEntry, Contract
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.tokens import Principal

router = APIRouter()
Filter = QueryText


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("give a time zone (Z or +09:00)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


Moment = Annotated[
    datetime | None,
    Query(description="ISO 8601 with a time zone, e.g. 2026-12-01T00:00:00+09:00."),
    AfterValidator(_utc),
]


@router.get(
    "/audit",
    tags=["admin: audit"],
    response_model=Page[AuditOut],
    summary="Read the audit log",
    description="Newest first. Filters (exact): actor (token:<name>, console:<user> …), "
    "action (contract.renewed …), target (contract:12, code:<code> …); since/until bound "
    "the time.",
    responses=documented(),
)
def audit(  # noqa: PLR0917  (FastAPI maps each query parameter to an argument)
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("audit:read"))],
    paging: Paging,
    actor: Filter = None,
    action: Annotated[QueryText, Query(max_length=64)] = None,
    target: Filter = None,
    since: Moment = None,
    until: Moment = None,
) -> Page[AuditOut]:
    query = newest_first(AuditEntry, paging)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    activity_of(request).flush()  # the reads and refusals queued so far, this one included
    with vendor_of(request).session() as session, read_transaction(session):
        rows = list(session.scalars(query))
    return Page[AuditOut].of(rows, paging, AuditOut.model_validate)


@router.get(
    "/audit/{entry_id}",
    tags=["admin: audit"],
    response_model=AuditOut,
    summary="Read one audit entry",
    responses=documented(),
)
def audit_entry(
    entry_id: IdPath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("audit:read"))],
) -> AuditOut:
    with vendor_of(request).session() as session, read_transaction(session):
        row = session.get(AuditEntry, entry_id)
        if row is None:
            raise not_found("監査ログ", "audit entry", f"#{entry_id}")
        return AuditOut.model_validate(row)


@router.get(
    "/usage/over-seats",
    tags=["admin: usage"],
    response_model=Page[OverSeatsOut],
    summary="Contracts whose servers report more clients than seats",
    description="The largest excess first (a conversation for sales, never a refusal).",
    responses=documented(),
)
def over_seats(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("usage:read"))],
    paging: Paging,
) -> Page[OverSeatsOut]:
    vendor = vendor_of(request)
    vendor.status_log.flush()  # this worker's queued status checks
    with vendor.session() as session, read_transaction(session):
        found = contracts_over_seats(session)
        return Page[OverSeatsOut].at_offset(found, paging, _over)


def _over(found: OverSeats) -> OverSeatsOut:
    return OverSeatsOut(
        contract_id=found.contract.id,
        customer=found.contract.customer.name,
        seats=found.contract.seats,
        seats_used=found.seats_used,
        servers=[_usage(s) for s in found.servers],
    )


def _usage(report: ServerUsage) -> ServerUsageOut:
    return ServerUsageOut(
        contract_id=report.contract_id,
        server_id=report.server_id,
        seats_used=report.seats_used,
        reported_at=report.at,
    )


@router.get(
    "/contracts/{contract_id}/usage",
    tags=["admin: usage"],
    response_model=Page[ServerUsageOut],
    summary="A contract's seat usage, per server",
    description="Each server's latest report (clients in use in the last 30 days), newest first.",
    responses=documented(),
)
def usage(
    contract_id: IdPath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("usage:read"))],
    paging: Paging,
) -> Page[ServerUsageOut]:
    vendor = vendor_of(request)
    vendor.status_log.flush()
    with vendor.session() as session, read_transaction(session):
        if session.get(Contract, contract_id) is None:
            raise not_found("契約", "contract", f"#{contract_id}")
        reports = contract_usage(session, contract_id)
    return Page[ServerUsageOut].at_offset(reports, paging, _usage)
