"""The status-check history written behind the answers (`services.status_log`), on both
databases: what a support engineer reads on the contract page must be every check, in
order, once the batch is written; a clean shutdown writes everything; a database outage
keeps the rows queued; a full queue says how many it dropped."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, func, select
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.models import StatusCheck
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.services.status_log import StatusLog
from cssec.vendor_service.settings import VendorSettings


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _code(vendor: Vendor) -> str:
    with vendor.session() as session:
        issued = services.issue_contract(session, customer="ACME", seats=5, actor="test")
    return issued.codes[Product.CS]


def _checks(vendor: Vendor) -> list[tuple[str, str, date]]:
    with vendor.session() as session:
        rows = session.scalars(select(StatusCheck).order_by(StatusCheck.id)).all()
        return [(r.server_id, r.state, r.contract_end) for r in rows]


def test_every_answered_check_is_in_the_history_once_written(
    app: FastAPI, client: TestClient
) -> None:
    vendor = _vendor(app)
    code = _code(vendor)
    servers = [f"srv-{i}" for i in range(5)]
    for server in servers:
        response = client.post(
            "/api/v1/status", json={"activation_code": code, "server_id": server}
        )
        assert response.status_code == 200, response.text
    statement = response.json()["statement"]
    vendor.status_log.flush()  # whatever the writer thread has not written yet
    assert vendor.status_log.pending() == 0
    end = date.fromisoformat(statement["contract_end"])
    assert _checks(vendor) == [(s, statement["state"], end) for s in servers]


def test_refused_checks_are_not_recorded(app: FastAPI, client: TestClient) -> None:
    vendor = _vendor(app)
    code = _code(vendor)
    forged = code[:-2] + ("00" if not code.endswith("00") else "11")
    response = client.post("/api/v1/status", json={"activation_code": forged, "server_id": "x"})
    assert response.status_code == 400
    vendor.status_log.flush()
    assert _checks(vendor) == []


def test_a_clean_shutdown_writes_what_is_queued(settings: VendorSettings, clock: FakeClock) -> None:
    vendor = open_vendor(settings, clock=clock)
    code = _code(vendor)
    with vendor.session() as session:
        for server in ("a", "b", "c"):
            services.issue_status_statement(session, code, server_id=server)
    vendor.close()
    reopened = open_vendor(settings, clock=clock)
    try:
        assert [s for s, _, _ in _checks(reopened)] == ["a", "b", "c"]
    finally:
        reopened.close()


def _row(server: str) -> dict[str, Any]:
    from datetime import UTC, datetime  # noqa: PLC0415

    return {
        "activation_code_id": 1,
        "server_id": server,
        "at": datetime(2026, 11, 27, tzinfo=UTC),
        "state": "active",
        "contract_end": date(2027, 11, 26),
    }


def test_a_failed_batch_stays_queued_and_is_written_later(tmp_path: Any) -> None:
    """A database without the table (as good as a database that is down) fails the batch;
    the rows wait, in order, and go in with the next batch once it works."""
    engine = create_engine(f"sqlite:///{tmp_path / 'history.db'}")
    log = StatusLog(engine)
    try:
        log.record(_row("first"))
        log.record(_row("second"))
        with pytest.raises(Exception, match="status_checks"):
            log.flush()
        assert log.pending() == 2
        StatusCheck.__table__.create(engine)  # type: ignore[attr-defined]
        log.record(_row("third"))
        assert log.flush() == 3
        with engine.connect() as connection:
            servers = connection.execute(
                select(StatusCheck.server_id).order_by(StatusCheck.id)
            ).scalars()
            assert list(servers) == ["first", "second", "third"]
    finally:
        log.close()
        engine.dispose()


def test_a_full_queue_drops_the_newest_and_says_how_many(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'history.db'}")
    StatusCheck.__table__.create(engine)  # type: ignore[attr-defined]
    log = StatusLog(engine, max_pending=2)
    try:
        for server in ("a", "b", "c", "d"):
            log.record(_row(server))
        assert log.pending() == 2
        with caplog.at_level(logging.ERROR, logger="cssec.vendor_service.services.status_log"):
            assert log.flush() == 2
        assert "2 rows dropped" in caplog.text
        with engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(StatusCheck)).scalar()
            assert count == 2
    finally:
        log.close()
        engine.dispose()
