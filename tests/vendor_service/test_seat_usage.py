"""Seat usage the servers report with their status checks: recorded in the status-check
history by the hot path and by the work function behind the documented route, shown per
server on the contract, and listed when it exceeds the contract's seats (both databases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.console.usage import contract_usage, contracts_over_seats
from cssec.vendor_service.models import ContractNotice, StatusCheck
from cssec.vendor_service.runtime import Vendor


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _issue(app: FastAPI, seats: int = 25) -> services.IssuedContract:
    with _vendor(app).session() as session:
        return services.issue_contract(
            session, customer="株式会社サンプル", seats=seats, actor="test"
        )


def _status(client: TestClient, code: str, server: str, used: Any = None) -> Any:
    body: dict[str, Any] = {"activation_code": code, "server_id": server}
    if used is not None:
        body["seats_used"] = used
    return client.post("/api/v1/status", json=body)


def _recorded(app: FastAPI) -> list[tuple[str, str, int | None]]:
    vendor = _vendor(app)
    vendor.status_log.flush()
    with vendor.session() as session:
        rows = session.scalars(select(StatusCheck).order_by(StatusCheck.id))
        return [(r.server_id, r.state, r.seats_used) for r in rows]


def test_the_hot_path_records_seats_used(app: FastAPI, clock: FakeClock) -> None:
    issued = _issue(app)
    code = issued.codes["CS"]
    with TestClient(app) as client:  # the lifespan opens the hot reader
        assert app.state.hot_reader.is_open
        assert _status(client, code, "srv-a", 30).status_code == 200
        assert _status(client, code, "srv-a").status_code == 200
        for bad in (-1, "many", 10**9):
            refused = _status(client, code, "srv-a", bad)
            assert refused.status_code == 422, bad
            assert refused.json()["code"] == "validation_error"
        with _vendor(app).session() as session:
            services.revoke_code(session, code, actor="test")
        assert _status(client, code, "srv-a", 31).status_code == 403
    assert _recorded(app) == [
        ("srv-a", "activated", 30),
        ("srv-a", "activated", None),
        ("srv-a", "revoked", 31),
    ]
    # the hot path's report of 30 on 25 seats is a crossing (seats.exceeded), once
    with _vendor(app).session() as session:
        notes = session.scalars(select(ContractNotice.kind)).all()
        assert notes == ["seats_exceeded"]


def test_the_documented_route_records_seats_used_too(app: FastAPI) -> None:
    issued = _issue(app)
    client = TestClient(app)  # no lifespan: the blocking work function answers
    assert _status(client, issued.codes["CS"], "srv-b", 12).status_code == 200
    with _vendor(app).session() as session:
        services.issue_status_statement(
            session, issued.codes["CS"], server_id="srv-c", seats_used=40
        )
    assert _recorded(app) == [("srv-b", "activated", 12), ("srv-c", "activated", 40)]


def test_latest_report_per_server_and_contracts_over_their_seats(
    app: FastAPI, clock: FakeClock
) -> None:
    within = _issue(app, seats=10)
    over = _issue(app, seats=25)
    client = TestClient(app)
    _status(client, within.codes["CS"], "srv-1", 12)
    clock.advance(timedelta(hours=1))
    _status(client, within.codes["CS"], "srv-1", 9)  # back under: the latest counts
    _status(client, over.codes["CS"], "srv-2", 24)
    clock.advance(timedelta(hours=1))
    _status(client, over.codes["CS"], "srv-2", 30)
    _status(client, over.codes["CS"], "srv-3")  # says nothing: not a report
    _vendor(app).status_log.flush()
    with _vendor(app).session() as session:
        usage = contract_usage(session, over.contract_id)
        assert [(u.server_id, u.seats_used) for u in usage] == [("srv-2", 30)]
        assert [
            (u.server_id, u.seats_used) for u in contract_usage(session, within.contract_id)
        ] == [("srv-1", 9)]
        found = contracts_over_seats(session)
        assert [(o.contract.id, o.seats_used) for o in found] == [(over.contract_id, 30)]
