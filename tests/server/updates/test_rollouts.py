"""Staged rollouts seen from a server (the vendor app in process over httpx's ASGI
transport, the clock moved): a server outside the ring keeps the previous version, the
administrator's early/late choice moves it, a halt stops new servers taking the version,
pull brings everyone to the previous content as a newer version, and an attacker on the
network can neither forge the signed rule nor hold a server back silently past the rollout."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.tuf import TufMeddler, TufTampering, install_tuf_root
from tests.helpers.updates import EXTRA_RULE, SEED, current_versions, installed

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server.updates.rollout_timing import set_rollout_timing
from cssec.vendor_service.activeupdate.rollout_errors import RolloutInProgress
from cssec.vendor_service.activeupdate.rollout_service import (
    advance_rollouts,
    halt_rollout,
    pull_rollout,
    show_rollouts,
)
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}
V3 = {**V1, Component.VIRUS_PATTERN: 3}
RINGS = (10, 100)
"""A "late" server (bucket >= 50) is outside 10 %; an "early" one (bucket < 10) inside."""


class RuleForger(TufTampering):
    """Rewrites the signed rule in targets.json: un-halts it (the signature then fails)."""

    def rewrite(self, path: str, body: bytes) -> bytes:
        if self.mode == "forge_rule" and path.endswith(".targets.json"):
            return body.replace(b'"halted":true', b'"halted":false ')
        return super().rewrite(path, body)


def publish_v2(desk: Desk, *, step_hours: int = 6) -> None:
    data = (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
    with desk.vendor.session() as session:
        publish_component(
            session, "virus_pattern", data, actor="test",
            rollout=RolloutPlan(rings=RINGS, step_hours=step_hours),
        )  # fmt: skip


async def _poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


@pytest.fixture
def tampering(network: SwitchableTransport) -> RuleForger:
    found = RuleForger(recording=True)
    network.inner = TufMeddler(network.inner, found)  # type: ignore[assignment]
    return found


async def _server(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, timing: str
) -> Server:
    if not (tmp_path / "root-keys" / "root-keys.json").exists():
        install_tuf_root(desk.vendor, tmp_path / "root-keys")
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    set_rollout_timing(server.settings.data_dir, timing)
    assert (await _poll(server, clock)).result == "up_to_date"
    return server


async def test_rings_halt_and_pull_as_a_server_sees_them(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    server = await _server(servers, desk, clock, tmp_path, "late")
    publish_v2(desk)
    outcome = await _poll(server, clock)
    assert outcome.result == "up_to_date", outcome.message
    assert current_versions(server) == V1, "outside the 10 % ring: the previous version"
    with desk.vendor.session() as session:
        engine = (SEED / "scan_engine.json").read_bytes() + b"\n"
        with pytest.raises(RolloutInProgress):
            publish_component(session, "scan_engine", engine, actor="test")
        assert [v.percent for v in show_rollouts(session)] == [10.0]

    set_rollout_timing(server.settings.data_dir, "early")  # the administrator's choice
    outcome = await _poll(server, clock)
    assert outcome.result == "success", outcome.message
    assert current_versions(server) == V2

    with desk.vendor.session() as session:
        halt_rollout(session, "virus_pattern", 2, actor="test", reason="crashes")
    other = await _server(servers, desk, clock, tmp_path, "early")
    assert current_versions(other) == V1, "a halted version reaches no new server"
    assert (await _poll(server, clock)).result == "up_to_date", "one holding it keeps it"
    assert current_versions(server) == V2

    with desk.vendor.session() as session:
        pulled = pull_rollout(session, "virus_pattern", 2, actor="test")
        assert pulled.component_version.version == 3
        assert show_rollouts(session)[0].state == "pulled"
    for each in (server, other):
        assert (await _poll(each, clock)).result == "success"
        assert current_versions(each) == V3
        current = installed(each).current
        assert current is not None
        v1 = (SEED / "virus_pattern.yar").read_bytes()
        assert each_file(each, current.components[Component.VIRUS_PATTERN]) == v1


def each_file(server: Server, version: object) -> bytes:
    from cssec.server.updates.store import ComponentStore  # noqa: PLC0415

    return ComponentStore(server.settings.data_dir).read(version)  # type: ignore[arg-type]


async def test_the_schedule_reaches_every_server_and_a_frozen_network_is_noticed(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, tampering: RuleForger
) -> None:
    server = await _server(servers, desk, clock, tmp_path, "late")
    publish_v2(desk, step_hours=3)  # full at +6 h
    assert (await _poll(server, clock)).result == "up_to_date"
    assert current_versions(server) == V1
    tampering.recording = False
    tampering.captured.clear()
    tampering.recording = True
    await _poll(server, clock)  # the attacker records this timestamp (rule at 10 %)
    tampering.recording = False
    tampering.mode = "freeze"
    clock.advance(timedelta(hours=5))
    with desk.vendor.session() as session:
        assert advance_rollouts(session), "past full_at: completed"
    clock.advance(timedelta(days=2))  # the recorded timestamp has expired
    outcome = await _poll(server, clock)
    assert (outcome.result, outcome.cause) == ("failed", "stale_metadata")  # type: ignore[attr-defined]
    assert current_versions(server) == V1
    tampering.mode = None
    assert (await _poll(server, clock)).result == "success"
    assert current_versions(server) == V2


async def test_a_forged_rule_cannot_push_a_server_into_a_halted_version(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, tampering: RuleForger
) -> None:
    server = await _server(servers, desk, clock, tmp_path, "early")
    publish_v2(desk)
    with desk.vendor.session() as session:
        halt_rollout(session, "virus_pattern", 2, actor="test")
        targets = list(show_rollouts(session))
        assert targets[0].halted
    tampering.mode = "forge_rule"
    outcome = await _poll(server, clock)
    assert (outcome.result, outcome.cause) == ("failed", "bad_metadata")  # type: ignore[attr-defined]
    assert current_versions(server) == V1
    tampering.mode = None
    assert (await _poll(server, clock)).result == "up_to_date"
    assert current_versions(server) == V1
    assert json.dumps(V1, default=str)
