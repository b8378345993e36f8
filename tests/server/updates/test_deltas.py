"""Delta updates of the pattern files through TUF: a server holding version N fetches the
published delta N → M instead of the whole file and installs exactly the published file;
a delta that is damaged on the way, or that cannot be used, falls back to the whole file
(itself checked as always). In process, the clock moved."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import EXTRA_RULE, SEED, current_versions, publish_virus_pattern_v2
from tuf.api.metadata import Metadata, Snapshot, Targets, Timestamp

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.activeupdate.tuf_repo import metadata_file

DELTAS = "/api/v1/tuf/targets/deltas/virus_pattern/"
FULL = "/api/v1/tuf/targets/virus_pattern/"
V3_RULE = b'rule Cssec_Delta_V3 { strings: $a = "CSSEC-DELTA-V3" condition: $a }\n'


class DeltaBreaker(httpx.AsyncBaseTransport):
    """Flips a byte of every delta the vendor sends (whole files pass untouched)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200 or not request.url.path.startswith(DELTAS):
            return response
        body = bytearray(await response.aread())
        body[len(body) // 2] ^= 0xFF
        return httpx.Response(200, content=bytes(body), request=request)


async def _tuf_server(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> Server:
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    assert (await _poll(server, clock)).result == "up_to_date"  # type: ignore[attr-defined]
    return server


async def _poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


def _stored(server: Server, version: int) -> bytes:
    path = server.settings.data_dir / "components" / "virus_pattern" / str(version)
    return (path / "virus_pattern.yar").read_bytes()


def _targets(desk: Desk) -> Targets:
    with desk.vendor.session() as session:
        body = metadata_file(session, "timestamp.json")
        snap_v = Metadata[Timestamp].from_bytes(body).signed.snapshot_meta.version
        snapshot = Metadata[Snapshot].from_bytes(metadata_file(session, f"{snap_v}.snapshot.json"))
        version = snapshot.signed.meta["targets.json"].version
        return (
            Metadata[Targets].from_bytes(metadata_file(session, f"{version}.targets.json")).signed
        )


async def test_a_server_holding_n_fetches_the_delta_and_installs_the_published_file(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    v1 = _stored(server, 1)
    publish_virus_pattern_v2(desk)
    targets = _targets(desk)
    delta_info = targets.targets["deltas/virus_pattern/1-2"]
    full_info = targets.targets["virus_pattern/virus_pattern.yar"]
    assert delta_info.custom["to_sha256"] == full_info.hashes["sha256"]
    assert delta_info.length < full_info.length
    assert not any(p.startswith("deltas/scan_engine") for p in targets.targets), "patterns only"
    before = len(network.requests)
    outcome = await _poll(server, clock)
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    calls = network.requests[before:]
    assert any(DELTAS in c for c in calls)
    assert not any(FULL in c for c in calls)
    v2 = _stored(server, 2)
    assert v2 == (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
    assert hashlib.sha256(v2).hexdigest() == full_info.hashes["sha256"]
    # Two versions on: the server still at 2 gets 2 → 3; one at 1 would get 1 → 3.
    with desk.vendor.session() as session:
        publish_component(session, "virus_pattern", v2 + V3_RULE, actor="test")
    assert {"deltas/virus_pattern/1-3", "deltas/virus_pattern/2-3"} <= set(_targets(desk).targets)
    before = len(network.requests)
    assert (await _poll(server, clock)).result == "success"  # type: ignore[attr-defined]
    assert any(f"{DELTAS}" in c and c.endswith(".2-3") for c in network.requests[before:])
    assert _stored(server, 3) == v2 + V3_RULE
    assert current_versions(server)[Component.VIRUS_PATTERN] == 3
    assert v1 != v2


async def test_a_damaged_delta_falls_back_to_the_whole_file(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    network.inner = DeltaBreaker(network.inner)  # type: ignore[assignment]
    publish_virus_pattern_v2(desk)
    before = len(network.requests)
    outcome = await _poll(server, clock)
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    calls = network.requests[before:]
    assert any(DELTAS in c for c in calls), "the delta was tried"
    assert any(FULL in c for c in calls), "then the whole file"
    assert _stored(server, 2) == (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE


async def test_a_held_file_that_is_not_intact_is_not_a_delta_source(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await _tuf_server(servers, desk, clock, tmp_path)
    held = server.settings.data_dir / "components" / "virus_pattern" / "1" / "virus_pattern.yar"
    held.write_bytes(held.read_bytes() + b"// changed on disk\n")
    publish_virus_pattern_v2(desk)
    before = len(network.requests)
    assert (await _poll(server, clock)).result == "success"  # type: ignore[attr-defined]
    calls = network.requests[before:]
    full = next(i for i, c in enumerate(calls) if FULL in c)
    assert not any(DELTAS in c for c in calls[:full]), "not tried as the server's source"
    # Fetched after the whole file only to be kept for the clients still at 1 (the mirror).
    assert len(list((server.settings.data_dir / "tuf" / "deltas").iterdir())) == 1
    delta = _targets(desk).targets["deltas/virus_pattern/1-2"]
    assert delta.length > 0
