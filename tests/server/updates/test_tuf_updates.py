"""The server as a TUF client of ActiveUpdate: the vendor key vouches for the TUF root once
(at the first update after install or upgrade), then every update goes through python-tuf,
and each attack on the way is refused and logged with the components unchanged: rollback,
freeze (with "components stale since …"), mix-and-match, endless data, arbitrary software.
In process (the vendor app over httpx's ASGI transport); the clock is moved, nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.tuf import TufMeddler, TufTampering, install_tuf_root
from tests.helpers.updates import current_versions, installed, publish_virus_pattern_v2

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server.updates.tuf_client import holds_root, metadata_dir
from cssec.server.updates.tuf_events import KIND as STALE

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}


def tuf_calls(network: SwitchableTransport) -> list[str]:
    return [r for r in network.requests if "/api/v1/tuf/" in r]


@pytest.fixture
def tampering(network: SwitchableTransport) -> TufTampering:
    found = TufTampering(recording=True)  # from the first contact on
    network.inner = TufMeddler(network.inner, found)  # type: ignore[assignment]
    return found


async def _tuf_server(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> Server:
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    assert not holds_root(server.settings.data_dir)
    outcome = await _poll(server, clock)
    assert outcome.result == "up_to_date", outcome.message
    assert holds_root(server.settings.data_dir), "the endorsed root is trusted from now on"
    return server


async def _poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


async def test_updates_go_through_tuf_once_the_vendor_key_vouched_for_the_root(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    assert (metadata_dir(server.settings.data_dir) / "root_history" / "1.root.json").is_file()
    publish_virus_pattern_v2(desk)
    before = len(network.requests)
    outcome = await _poll(server, clock)
    assert outcome.result == "success"
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
    assert current_versions(server) == V2
    calls = network.requests[before:]
    assert not any("/api/v1/activeupdate/" in c for c in calls), "no bare manifest asked"
    # v1 is held: the delta 1→2 is fetched (through TUF too), not the whole file.
    assert any("/api/v1/tuf/targets/deltas/virus_pattern/" in c for c in calls)
    assert not any("/api/v1/tuf/targets/virus_pattern/" in c for c in calls)
    # Rollback and the update log work as before.
    assert (await server.app.state.component_poller.rollback(actor="admin")).result == (
        "rolled_back"
    )
    assert current_versions(server) == V1
    assert (await server.app.state.component_poller.update_now(actor="admin")).result == "success"
    assert current_versions(server) == V2
    # A vendor key rotation or the timestamp renewing itself changes nothing here.
    clock.advance(timedelta(days=3))
    assert (await _poll(server, clock)).result == "up_to_date"


async def test_a_server_holding_a_root_never_falls_back_to_the_bare_manifest(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
    tampering: TufTampering,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    publish_virus_pattern_v2(desk)
    network.mode = "error"  # every request answered 503, TUF included
    outcome = await _poll(server, clock)
    assert outcome.result == "failed"
    assert current_versions(server) == V1


async def _attack(
    server: Server, desk: Desk, clock: FakeClock, tampering: TufTampering, mode: str
) -> object:
    assert (await _poll(server, clock)).result == "up_to_date"
    tampering.recording = False  # what the attacker has: the metadata of the first contact
    publish_virus_pattern_v2(desk)
    if mode == "rollback":
        assert (await _poll(server, clock)).result == "success"  # V2, timestamp moves on
    tampering.mode = mode
    if mode == "freeze":
        clock.advance(timedelta(days=2))  # the recorded timestamp is now past its expiry
    return await _poll(server, clock)


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("rollback", "rolled_back_metadata"),
        ("freeze", "stale_metadata"),
        ("mix_and_match", "rolled_back_metadata"),
        ("endless_data", "oversize"),
        ("arbitrary_software", "hash_mismatch"),
    ],
)
async def test_each_attack_is_refused_with_the_components_unchanged(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    tmp_path: Path,
    tampering: TufTampering,
    mode: str,
    cause: str,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    held = installed(server).current
    outcome = await _attack(server, desk, clock, tampering, mode)
    assert outcome.result == "failed", outcome.message  # type: ignore[attr-defined]
    assert outcome.cause == cause, outcome.message  # type: ignore[attr-defined]
    expected = V2 if mode == "rollback" else V1
    assert current_versions(server) == expected
    if mode != "rollback":
        assert installed(server).current == held
    assert not (server.settings.data_dir / "components" / "virus_pattern" / "3").exists()
    assert "現在のコンポーネントはそのまま使用されます" in outcome.message["ja"]  # type: ignore[attr-defined]
    stale = server.events(STALE)
    if mode == "freeze":
        [event] = stale
        assert "Components stale since" in event.message_en
        assert "から最新か確認できていません" in event.message_ja
        assert "stale" not in event.message_ja  # docs/style-ja.md: no English phrase inside
        assert (await _poll(server, clock)).result == "failed"
        assert len(server.events(STALE)) == 1, "once per expiry, not once per poll"
    else:
        assert stale == []
    # The attacker leaves: the next poll gets the real, current components.
    tampering.mode = None
    clock.advance(timedelta(hours=1))
    outcome = await server.app.state.component_poller.update_now(actor="admin")
    assert current_versions(server) == V2, outcome.message


async def test_the_vendors_refusal_passes_through_tuf(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    desk.revoke(server.slot().activation_code)
    desk.vendor.activeupdate.entitlements.clear()
    outcome = await _poll(server, clock)
    assert outcome.result == "failed"  # type: ignore[attr-defined]
    assert outcome.cause == "revoked_activation_code"  # type: ignore[attr-defined]
    assert current_versions(server) == V1
