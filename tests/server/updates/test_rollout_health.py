"""Health ping-back end to end, in process: clients' heartbeats (the server's agent API)
say the rolling version fails to load; the server sums them and sends them, signed with its
identity key, with its next poll; the vendor halts the rollout by itself (audit row,
webhook, operators' mail queued) and no other server takes the version. A report for
another server's id, a replay and a too-frequent report are refused or ignored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import EXTRA_RULE, SEED, current_versions

from cssec.core.clock import FakeClock
from cssec.core.health_report import KIND
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, sign_statement
from cssec.server.licensing.clockguard import server_info
from cssec.server.updates.health import health_statement
from cssec.server.updates.rollout_timing import set_rollout_timing
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate.health import SESSION_KEY, HealthPolicy
from cssec.vendor_service.activeupdate.health_intake import take_health_report
from cssec.vendor_service.activeupdate.models import ComponentHealthRow
from cssec.vendor_service.activeupdate.rollout_errors import (
    HealthReportRefused,
    HealthReportTooSoon,
)
from cssec.vendor_service.activeupdate.rollout_service import show_rollouts
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.models import AuditEntry, OutboxMessage

AGENT = "/api/v1/agent"
V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}


def _vendor_policy(desk: Desk, **change: Any) -> None:
    info = desk.vendor.sessionmaker.kw["info"]
    info[SESSION_KEY] = HealthPolicy(**{"min_clients": 3, "min_interval_seconds": 300, **change})
    info["rollout_operators"] = ("ops@vendor.example",)


async def _poll(server: Server, clock: FakeClock) -> Any:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


async def _client_reports(server: Server, hostname: str, entries: list[dict[str, Any]]) -> None:
    enrolled = await server.client.post(
        f"{AGENT}/enroll",
        json={"route": "autopcc", "install_token": None, "hostname": hostname, "os": "Linux"},
    )
    assert enrolled.status_code == 200, enrolled.text
    headers = {"Authorization": f"Bearer {enrolled.json()['client_token']}"}
    status = {"agent_version": "t", "component_health": entries}
    response = await server.client.post(
        f"{AGENT}/heartbeat", json={"status": status}, headers=headers
    )
    assert response.status_code == 200, response.text


def _entry(version: int, *, loaded: bool) -> dict[str, Any]:
    return {
        "component": "virus_pattern", "version": version, "clients": 1,
        "loaded": int(loaded), "load_failures": int(not loaded), "scans": 3, "scan_errors": 0,
        "crashes": 0, "detections": 0, "quarantines": 0, "hours": 2,
    }  # fmt: skip


async def test_failing_clients_halt_the_rollout_and_no_other_server_takes_it(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    _vendor_policy(desk)
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    with desk.vendor.session() as session:
        services.add_webhook_endpoint(
            session, url="https://hooks.example.com/cssec", secret="whsec_" + "A" * 40,
            events=["component.rollout_halted"], actor="t",
        )  # fmt: skip
    first = await servers.start(activation_code=desk.contract().codes["CS"])
    set_rollout_timing(first.settings.data_dir, "early")
    assert (await _poll(first, clock)).result == "up_to_date"
    data = (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
    with desk.vendor.session() as session:
        publish_component(
            session, "virus_pattern", data, actor="t", rollout=RolloutPlan((10, 100), 6)
        )
    assert (await _poll(first, clock)).result == "success"
    assert current_versions(first) == V2
    for n in range(4):
        await _client_reports(first, f"pc-{n}", [_entry(2, loaded=n == 0), _entry(1, loaded=True)])

    assert (await _poll(first, clock)).result == "up_to_date"  # the report goes with the poll
    with desk.vendor.session() as session:
        view = show_rollouts(session)[0]
        assert view.halted
        assert view.state == "active"
        assert (view.health.clients, view.health.load_failures) == (4, 3)
        assert "load failures 75.0%" in (view.halt_reason or "")
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "component.rollout_halted" in actions
        events = session.scalars(select(OutboxMessage.event)).all()
        assert "component.rollout_halted" in events
        assert "rollout.halted" in events, "the operators' mail"

    second = await servers.start(activation_code=desk.contract().codes["CS"])
    set_rollout_timing(second.settings.data_dir, "early")
    assert (await _poll(second, clock)).result == "up_to_date"
    assert current_versions(second) == V1, "a halted version reaches no other server"


async def test_a_server_cannot_speak_for_another_nor_replay_nor_flood(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    _vendor_policy(desk)
    code = desk.contract().codes["CS"]
    server = await servers.start(activation_code=code)
    await _client_reports(server, "pc-1", [_entry(1, loaded=True)])
    with server.app.state.server.sessionmaker() as session:
        server_id = server_info(session).server_id
    report = health_statement(server.app.state.component_poller.env, server_id, now=clock.now())
    assert report is not None
    assert report["statement"]["server_id"] == server_id
    with desk.vendor.session() as session:
        assert take_health_report(session, code, report) == 1
        with pytest.raises(HealthReportTooSoon):
            take_health_report(session, code, report)
    clock.advance(timedelta(minutes=10))
    with desk.vendor.session() as session:
        assert take_health_report(session, code, report) == 0, "a replay adds nothing"
        impostor = SigningKey.generate()
        forged = dict(report["statement"], server_key=impostor.public.to_jwk())
        forged["issued_at"] = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        forged["versions"] = [_entry(1, loaded=False)]
        with pytest.raises(HealthReportRefused, match="another key"):
            take_health_report(session, code, sign_statement(forged, impostor))
        tampered = {**report, "statement": {**report["statement"], "bucket": 0}}
        with pytest.raises(HealthReportRefused, match="signature"):
            take_health_report(session, code, tampered)
        rows = session.scalars(select(ComponentHealthRow)).all()
        assert [(r.server_id, r.loaded, r.load_failures) for r in rows] == [(server_id, 1, 0)]
    assert report["statement"]["kind"] == KIND
