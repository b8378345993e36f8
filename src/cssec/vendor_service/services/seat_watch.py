"""The seats servers report with their status checks, watched for crossings.

A status check may carry `seats_used` (the clients the server counts as in use). The
status-check history records it (`status_log`, written behind in batches, or inserted
by `status.issue_status_statement` for a session without a log); just before the rows
are inserted, `note_seat_reports` compares each report with the same server's previous
one for the same code and lets `notices.note_seat_usage` emit seats.exceeded when it
crosses the contract's seats: once per crossing, not on every check of a server that
stays over. A revoked code's check is recorded, never reported.

It runs in the transaction that writes the rows, so a report and its crossing are
committed together; the webhook goes out from the outbox like every other event, at the
sender's next run (within `background_interval`: the history writer does not wake it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cssec.core.clock import Clock
from cssec.vendor_service.models import ActivationCodeRow, Contract, StatusCheck
from cssec.vendor_service.services.notices import note_seat_usage

REVOKED_STATE = "revoked"


def note_seat_reports(
    connection: Connection, rows: Sequence[Mapping[str, Any]], *, clock: Clock
) -> int:
    """Emit seats.exceeded for each report in `rows` (status-check rows not yet inserted,
    in the order they were answered) that crosses its contract's seats. In the
    connection's transaction; returns how many events were emitted."""
    reports = [
        row
        for row in rows
        if row.get("seats_used") is not None and row.get("state") != REVOKED_STATE
    ]
    if not reports:
        return 0
    code_ids = {int(row["activation_code_id"]) for row in reports}
    contract_of: dict[int, tuple[int, int]] = {
        int(code_id): (int(contract_id), int(seats))
        for code_id, contract_id, seats in connection.execute(
            select(ActivationCodeRow.id, Contract.id, Contract.seats)
            .join(Contract, Contract.id == ActivationCodeRow.contract_id)
            .where(ActivationCodeRow.id.in_(code_ids))
        )
    }
    last: dict[tuple[int, str], int | None] = {}
    emitted = 0
    session = Session(bind=connection, info={"clock": clock})
    try:
        for row in reports:
            key = (int(row["activation_code_id"]), str(row["server_id"]))
            used = int(row["seats_used"])
            found = contract_of.get(key[0])
            if found is not None and used > found[1]:  # over: is it a crossing?
                previous = last[key] if key in last else _last_report(connection, *key)
                if note_seat_usage(
                    session,
                    contract_id=found[0],
                    server_id=key[1],
                    seats_used=used,
                    previous=previous,
                    at=row.get("at"),
                ):
                    emitted += 1
            last[key] = used
        session.commit()  # into the connection's transaction: the caller commits it
    finally:
        session.close()
    return emitted


def _last_report(connection: Connection, code_id: int, server_id: str) -> int | None:
    found = connection.scalar(
        select(StatusCheck.seats_used)
        .where(
            StatusCheck.activation_code_id == code_id,
            StatusCheck.server_id == server_id,
            StatusCheck.seats_used.is_not(None),
            StatusCheck.state != REVOKED_STATE,
        )
        .order_by(StatusCheck.id.desc())
        .limit(1)
    )
    return None if found is None else int(found)
