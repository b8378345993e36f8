"""Delta updates for clients through the server's TUF mirror: a client holding an intact
version N of a pattern fetches the vendor's signed delta N → N+1 (kept by the server when
it verified and used it) instead of the whole file, rebuilds, checks length and SHA-256
against the full target, and falls back to the whole file on any problem. The real client
code against the real server app, the real vendor behind; the clock is moved.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.helpers.server import Desk, ServerFactory
from tests.helpers.updates import EXTRA_RULE, SEED, publish_virus_pattern_v2
from tests.server.agent.test_tuf_mirror import (
    V1,
    V2,
    Recorder,
    client_of,
    client_versions,
    install,
    tuf_server,
    update,
)

from cssec.client.install import agent_for
from cssec.client.state import ClientState
from cssec.core.clock import FakeClock
from cssec.core.errors import NotFound
from cssec.core.policy import Component
from cssec.server.updates.tuf_mirror import DELTAS_DIR

DELTA = "/api/v1/agent/tuf/targets/deltas/virus_pattern/"
FULL = "/api/v1/agent/tuf/targets/virus_pattern/"


class Bytes(Recorder):
    """Recorder that also counts the bytes each answer carried, by path."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        super().__init__(inner)
        self.sizes: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        self.sizes.append((request.url.path, len(body)))
        return response

    def moved(self, prefix: str) -> int:
        return sum(size for path, size in self.sizes if path.startswith(prefix))


@pytest.fixture
def v2_data() -> bytes:
    return (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE


def _pattern(state: ClientState) -> bytes:
    version = state.load_installed().current[Component.VIRUS_PATTERN]
    return state.read_component(version)


async def test_a_client_at_n_moves_the_delta_not_the_whole_file(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, v2_data: bytes
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as recorder:
        transport = Bytes(recorder.inner)
        assert install(state, transport, clock).versions == V1  # type: ignore[arg-type]
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")
        kept = list((server.settings.data_dir / "tuf" / DELTAS_DIR).iterdir())
        assert len(kept) == 1, "the server keeps the delta it verified and used"
        transport.sizes.clear()
        outcome = update(state, transport, clock)  # type: ignore[arg-type]
        assert outcome.result == "success", outcome
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert client_versions(state) == V2
        delta_bytes = transport.moved(DELTA)
        assert delta_bytes > 0
        assert transport.moved(FULL) == 0, "the whole file did not move"
        assert delta_bytes < len(v2_data) / 2
        assert _pattern(state) == v2_data
        # Anything the server did not keep is 404; so is a delta named for another version.
        sha = kept[0].name
        with agent_for(state.load_config(), lang="en", transport=transport) as agent:
            unknown = (
                f"deltas/virus_pattern/{'0' * 64}.1-2",
                f"deltas/virus_pattern/{sha}.1-3",
                f"deltas/scan_engine/{sha}.1-2",
                f"deltas/virus_pattern/{sha}.x-2",
            )
            for name in unknown:
                with pytest.raises(NotFound):
                    agent.tuf_file(f"targets/{name}", max_bytes=10_000)
            assert agent.tuf_file(f"targets/deltas/virus_pattern/{sha}.1-2", max_bytes=10_000)


@pytest.mark.parametrize("mode", ["flipped", "truncated"])
async def test_a_tampered_delta_falls_back_to_the_whole_file(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    tmp_path: Path,
    v2_data: bytes,
    mode: str,
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as recorder:
        transport = Bytes(recorder.inner)
        install(state, transport, clock)  # type: ignore[arg-type]
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")

        def tamper(path: str, body: bytes) -> bytes:
            if not path.startswith(DELTA):
                return body
            if mode == "truncated":
                return body[: len(body) // 2]
            changed = bytearray(body)
            changed[len(changed) // 2] ^= 0xFF
            return bytes(changed)

        transport.rewrite = tamper
        transport.sizes.clear()
        outcome = update(state, transport, clock)  # type: ignore[arg-type]
        assert outcome.result == "success", outcome
        assert transport.moved(DELTA) > 0, "the delta was tried"
        assert transport.moved(FULL) == len(v2_data), "then the whole file"
        assert client_versions(state) == V2
        assert _pattern(state) == v2_data


async def test_a_client_whose_held_file_is_damaged_fetches_the_whole_file(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, v2_data: bytes
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as recorder:
        transport = Bytes(recorder.inner)
        install(state, transport, clock)  # type: ignore[arg-type]
        held = state.load_installed().current[Component.VIRUS_PATTERN]
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")
        state.write_component(held, state.read_component(held) + b"\n// changed\n")
        transport.sizes.clear()
        outcome = update(state, transport, clock)  # type: ignore[arg-type]
        assert outcome.result == "success", outcome
        assert transport.moved(DELTA) == 0, "no delta from a file that is not intact"
        assert transport.moved(FULL) == len(v2_data)
        assert _pattern(state) == v2_data


async def test_a_rollback_on_the_server_withholds_the_delta_too(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, v2_data: bytes
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    poller = server.app.state.component_poller
    state = ClientState(tmp_path / "client")
    with client_of(server) as recorder:
        transport = Bytes(recorder.inner)
        install(state, transport, clock)  # type: ignore[arg-type]
        publish_virus_pattern_v2(desk)
        await poller.update_now(actor="t")
        [kept] = (server.settings.data_dir / "tuf" / DELTAS_DIR).iterdir()
        assert (await poller.rollback(actor="admin")).result == "rolled_back"
        withheld = f"targets/deltas/virus_pattern/{kept.name}.1-2"
        with (
            agent_for(state.load_config(), lang="en", transport=transport) as agent,
            pytest.raises(NotFound),
        ):
            agent.tuf_file(withheld, max_bytes=10_000)
        transport.sizes.clear()
        assert update(state, transport, clock).result == "up_to_date"  # type: ignore[arg-type]
        assert client_versions(state) == V1
        assert transport.moved(DELTA) == transport.moved(FULL) == 0
        await poller.update_now(actor="admin")  # applied again: the kept delta is served
        outcome = update(state, transport, clock)  # type: ignore[arg-type]
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert transport.moved(DELTA) > 0
        assert transport.moved(FULL) == 0
        assert _pattern(state) == v2_data


async def test_a_server_that_took_the_whole_file_still_keeps_the_delta_for_its_clients(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, v2_data: bytes
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as recorder:
        transport = Bytes(recorder.inner)
        install(state, transport, clock)  # type: ignore[arg-type]
        own = server.settings.data_dir / "components" / "virus_pattern" / "1"
        held = own / "virus_pattern.yar"
        held.write_bytes(held.read_bytes() + b"// changed on disk\n")
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")
        assert len(list((server.settings.data_dir / "tuf" / DELTAS_DIR).iterdir())) == 1
        transport.sizes.clear()
        outcome = update(state, transport, clock)  # type: ignore[arg-type]
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert transport.moved(DELTA) > 0
        assert transport.moved(FULL) == 0
        assert _pattern(state) == v2_data
