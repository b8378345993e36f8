"""Seat usage the servers report: with every status check a server says how many clients
it counts as in use (`StatusCheck.seats_used`). The contract page shows each server's
latest report; `/console/seat-usage` lists the contracts whose latest reported usage
exceeds their seats (a conversation for the sales desk, never a refusal: a customer's
client installs keep working whatever the count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.vendor_service.console.web import PREFIX, StaffUser, render, require_user, vendor_of
from cssec.vendor_service.models import ActivationCodeRow, Contract, StatusCheck

router = APIRouter(prefix=PREFIX, include_in_schema=False)
User = Annotated[StaffUser, Depends(require_user)]
OVER_LIMIT = 200


@dataclass(frozen=True)
class ServerUsage:
    """One server's latest report for one contract."""

    contract_id: int
    server_id: str
    seats_used: int
    at: datetime


def _latest_reports(session: Session, contract_id: int | None = None) -> list[ServerUsage]:
    """The latest status check carrying `seats_used` per (contract, server)."""
    latest = (
        select(func.max(StatusCheck.id).label("id"))
        .join(ActivationCodeRow, StatusCheck.activation_code_id == ActivationCodeRow.id)
        .where(StatusCheck.seats_used.is_not(None))
        .group_by(ActivationCodeRow.contract_id, StatusCheck.server_id)
    )
    if contract_id is not None:
        latest = latest.where(ActivationCodeRow.contract_id == contract_id)
    rows = session.execute(
        select(
            ActivationCodeRow.contract_id,
            StatusCheck.server_id,
            StatusCheck.seats_used,
            StatusCheck.at,
        )
        .join(ActivationCodeRow, StatusCheck.activation_code_id == ActivationCodeRow.id)
        .where(StatusCheck.id.in_(latest.scalar_subquery()))
        .order_by(StatusCheck.at.desc(), StatusCheck.id.desc())
    )
    return [
        ServerUsage(contract_id=c, server_id=s, seats_used=int(u or 0), at=a) for c, s, u, a in rows
    ]


def contract_usage(session: Session, contract_id: int) -> list[ServerUsage]:
    """Each server's latest reported usage for the contract, newest first."""
    return _latest_reports(session, contract_id)


@dataclass(frozen=True)
class OverSeats:
    contract: Contract
    servers: list[ServerUsage]

    @property
    def seats_used(self) -> int:
        return max(s.seats_used for s in self.servers)


def contracts_over_seats(session: Session) -> list[OverSeats]:
    """Contracts with a server whose latest report exceeds the contract's seats, the
    largest excess first."""
    by_contract: dict[int, list[ServerUsage]] = {}
    for report in _latest_reports(session):
        by_contract.setdefault(report.contract_id, []).append(report)
    if not by_contract:
        return []
    contracts = session.scalars(select(Contract).where(Contract.id.in_(list(by_contract))))
    found = [
        OverSeats(contract=c, servers=[s for s in by_contract[c.id] if s.seats_used > c.seats])
        for c in contracts
    ]
    over = [o for o in found if o.servers]
    over.sort(key=lambda o: (o.contract.seats - o.seats_used, o.contract.id))
    return over[:OVER_LIMIT]


@router.get("/seat-usage")
def seat_usage(request: Request, user: User) -> Response:
    vendor = vendor_of(request)
    vendor.status_log.flush()  # this worker's queued status checks, so the list is current
    with vendor.session() as session:
        over = contracts_over_seats(session)
        return render(request, "seat_usage.html", user=user, active="seat-usage", over=over)
