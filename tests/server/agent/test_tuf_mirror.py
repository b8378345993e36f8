"""The server as a TUF mirror for its clients, and the client's own TUF check (python-tuf
against the server's mirror with the vendor's root): the real client code against the
real server app (a sync transport into it), the real vendor behind, real signatures; the
clock is moved, nothing sleeps.

- the client bootstraps TUF from the vendor key's endorsement at install, then updates
  through the mirror only (no bare manifest, no /files);
- a client holding today's manifest-format state moves to TUF at its next update;
- a server cut off from ActiveUpdate: its clients say "components stale since …";
- key-compromise recovery: the vendor rotates root (old and new thresholds) replacing the
  timestamp key; server and client take the new root and refuse metadata signed by the
  compromised key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport, SyncBridge
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import SEED, current_versions, publish_virus_pattern_v2
from tuf.api.metadata import Metadata, Root, Timestamp
from typer.testing import CliRunner

from cssec.client.cli import app as client_cli
from cssec.client.errors import ComponentsStale, UpdateMetadataRejected
from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.tuf_client import holds_root as client_holds_root
from cssec.client.tuf_client import stale_since as client_stale_since
from cssec.client.updater import UpdateOutcome, update_components
from cssec.core.clock import FakeClock
from cssec.core.errors import LicenseExpired, NotFound
from cssec.core.license import grace_end
from cssec.core.policy import Component
from cssec.server import cli as server_cli
from cssec.server.updates.tuf_client import holds_root, metadata_dir
from cssec.server.updates.tuf_events import KIND as STALE
from cssec.server.updates.tuf_mirror import ENDORSEMENT_FILE, stale_since
from cssec.server.webmanager.banners import components_stale_banner
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.activeupdate.tuf_keys import (
    init_root_keys,
    load_root_keys,
    private_key_pem,
    signer_from_pem,
)
from cssec.vendor_service.activeupdate.tuf_repo import install_root

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}
CS_ONLY_V1 = {c: v for c, v in V1.items() if c is not Component.DAMAGE_CLEANUP_TEMPLATE}
TUF = "/api/v1/agent/tuf/"
Rewrite = Callable[[str, bytes], bytes]


class Recorder(httpx.BaseTransport):
    """The client's requests into the server app, recorded; `rewrite` may change answers
    (a machine in the middle, in process: the process version is tests/hostile)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []
        self.rewrite: Rewrite | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        response = self.inner.handle_request(request)
        if self.rewrite is None or response.status_code != 200:
            return response
        body = self.rewrite(request.url.path, response.read())
        return httpx.Response(200, headers=response.headers, content=body)


@contextmanager
def client_of(server: Server) -> Iterator[Recorder]:
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 5e4)) as http:
        yield Recorder(SyncBridge(http))


def install(state: ClientState, transport: Recorder, clock: FakeClock) -> UpdateOutcome:
    installed = install_client(
        state, server_url="http://server.test", route="autopcc", install_token=None,
        clock=clock, lang="en", transport=transport,
    )  # fmt: skip
    assert installed.update_error is None, installed.update_error
    assert installed.update is not None
    return installed.update


def update(state: ClientState, transport: Recorder, clock: FakeClock) -> UpdateOutcome:
    with agent_for(state.load_config(), lang="en", transport=transport) as agent:
        return update_components(state, agent, clock=clock, lang="en")


def client_versions(state: ClientState) -> dict[Component, int]:
    return state.load_installed().versions()


async def poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


async def tuf_server(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> Server:
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    # With Damage Cleanup Services, so that its clients take all four components: the
    # install brings the template with the DCS code, so the first poll has nothing new.
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    assert (await poll(server, clock)).result == "up_to_date"  # type: ignore[attr-defined]
    assert holds_root(server.settings.data_dir)
    return server


async def test_a_client_updates_through_its_servers_tuf_mirror(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as transport:
        assert install(state, transport, clock).versions == V1
        assert client_holds_root(state.root), "the vendor key's endorsement vouched for it"
        assert any(p.startswith(TUF + "targets/virus_pattern/") for p in transport.paths)
        publish_virus_pattern_v2(desk)
        assert update(state, transport, clock).result == "up_to_date", "server not polled yet"
        await server.app.state.component_poller.update_now(actor="t")
        transport.paths.clear()
        outcome = update(state, transport, clock)
        assert outcome.result == "success"
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert client_versions(state) == V2
        asked = transport.paths
        assert not any(p.endswith("/manifest") or "/agent/files/" in p for p in asked), asked
        assert TUF + "timestamp.json" in asked
        # The server holds only what it verified: unknown names and hashes are 404.
        with agent_for(state.load_config(), lang="en", transport=transport) as agent:
            for name in ("9.root.json", "99.targets.json", "root.json", "../client.json",
                         f"targets/virus_pattern/{'0' * 64}.virus_pattern.yar"):  # fmt: skip
                with pytest.raises(NotFound):
                    agent.tuf_file(name, max_bytes=1000)


async def test_the_mirror_needs_a_client_token_and_follows_the_license(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    response = await server.client.get(TUF + "timestamp.json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_a_manifest_client_moves_to_tuf_at_its_next_update(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """Today's client (current.json from the signed manifest, no tuf/) and a server that
    trusted its TUF root before it mirrored anything (no endorsement kept)."""
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    state = ClientState(tmp_path / "client")
    with client_of(server) as transport:
        # C/S Sec. alone: the Damage Cleanup template is not held, its clients go without.
        assert install(state, transport, clock).versions == CS_ONLY_V1
        assert not client_holds_root(state.root), "no TUF at the vendor yet: the manifest"
        assert any(p.endswith("/agent/manifest") for p in transport.paths)
        manifest_state = state.load_installed()
        # The vendor moves to TUF; the server follows at its next poll.
        install_tuf_root(desk.vendor, tmp_path / "root-keys")
        assert (await poll(server, clock)).result == "up_to_date"  # type: ignore[attr-defined]
        (metadata_dir(server.settings.data_dir) / ENDORSEMENT_FILE).unlink()  # an older server
        assert update(state, transport, clock).result == "up_to_date"
        assert not client_holds_root(state.root), "the server offers no endorsement yet"
        assert (await poll(server, clock)).result == "up_to_date"  # type: ignore[attr-defined]
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")
        transport.paths.clear()
        outcome = update(state, transport, clock)
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert client_holds_root(state.root), "moved to TUF without a reinstall"
        assert not any(p.endswith("/agent/manifest") for p in transport.paths)
        assert (
            state.load_installed().previous[Component.VIRUS_PATTERN]
            == (manifest_state.current[Component.VIRUS_PATTERN])
        )
        # From now on never the bare manifest: a server that stops mirroring is refused.
        transport.rewrite = None
        for name in ("timestamp.json", "snapshot.json", "targets.json", ENDORSEMENT_FILE):
            (metadata_dir(server.settings.data_dir) / name).unlink()
        with pytest.raises(UpdateMetadataRejected) as withheld:
            update(state, transport, clock)
        assert withheld.value.fields["cause"] == "withheld"
    assert client_versions(state) == {**CS_ONLY_V1, Component.VIRUS_PATTERN: 2}


async def test_clients_of_a_cut_off_server_say_components_stale_since(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as transport:
        install(state, transport, clock)
        since = client_stale_since(state.root)
        assert since is not None
        assert since > clock.now()
        network.mode = "down"  # the server is cut off from ActiveUpdate
        clock.advance(timedelta(days=2))
        assert (await poll(server, clock)).result == "failed"  # type: ignore[attr-defined]
        with pytest.raises(ComponentsStale) as stale:
            update(state, transport, clock)
    assert client_versions(state) == V1
    message = stale.value.message("en")
    assert message.startswith("Components stale since ")
    assert "The current components stay in use" in message
    assert "から最新か確認できていません" in stale.value.message("ja")
    shown = CliRunner().invoke(
        client_cli, ["--lang", "en", "status", "--dir", str(state.root), "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["stale_since"] is not None
    for lang, words in (("en", "Warning: components stale since"), ("ja", "から最新か確認")):
        said = CliRunner().invoke(client_cli, ["--lang", lang, "status", "--dir", str(state.root)])
        assert said.exit_code == 0, said.output
        assert words in said.stdout, said.stdout


def _forged_timestamp(current: bytes, signer_pem: bytes) -> bytes:
    md = Metadata[Timestamp].from_bytes(current)
    md.signed.version += 10
    md.signed.expires += timedelta(days=30)
    md.signatures.clear()
    md.sign(signer_from_pem(signer_pem))
    return md.to_bytes()


async def test_root_rotation_recovers_from_a_compromised_timestamp_key(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    keys_dir = desk.vendor.keyring.directory
    compromised = (keys_dir / "tuf-timestamp.pem").read_bytes()
    with client_of(server) as transport:
        install(state, transport, clock)
        # The vendor replaces the timestamp key and its root keys, by a root rotation signed
        # by the old threshold and the new one.
        (keys_dir / "tuf-timestamp.pem").write_bytes(private_key_pem(Ed25519PrivateKey.generate()))
        init_root_keys(tmp_path / "new-root-keys", threshold=2, count=3)
        with desk.vendor.session() as session:
            version = install_root(
                session, load_root_keys(tmp_path / "new-root-keys"),
                old_keys=load_root_keys(tmp_path / "root-keys"),
            )  # fmt: skip
        assert version == 2
        publish_virus_pattern_v2(desk)
        assert (await poll(server, clock)).result == "success"  # type: ignore[attr-defined]
        root = Metadata[Root].from_file(str(metadata_dir(server.settings.data_dir) / "root.json"))
        assert root.signed.version == 2
        old_keyid = signer_from_pem(compromised).public_key.keyid
        assert old_keyid not in root.signed.roles["timestamp"].keyids
        assert update(state, transport, clock).result == "success"
        assert (state.root / "tuf" / "root_history" / "2.root.json").is_file()
        assert client_versions(state) == V2
        # The holder of the compromised key forges a newer timestamp: both refuse it.
        inner = network.inner

        class Forger(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                response = await inner.handle_async_request(request)
                if request.url.path != "/api/v1/tuf/timestamp.json":
                    return response
                await response.aread()
                forged = _forged_timestamp(response.content, compromised)
                return httpx.Response(200, content=forged, request=request)

        network.inner = Forger()  # type: ignore[assignment]
        refused = await poll(server, clock)
        assert refused.result == "failed"  # type: ignore[attr-defined]
        assert refused.cause == "bad_metadata", refused.message  # type: ignore[attr-defined]
        assert current_versions(server) == V2
        transport.rewrite = lambda path, body: (
            _forged_timestamp(body, compromised) if path == TUF + "timestamp.json" else body
        )
        with pytest.raises(UpdateMetadataRejected) as rejected:
            update(state, transport, clock)
        assert rejected.value.fields["cause"] == "bad_metadata"
        assert "The current components stay in use" in rejected.value.message("en")
    assert client_versions(state) == V2


async def test_a_cut_off_server_says_components_stale_since_everywhere(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    """The event, the banner on every page (the dashboard, the components page) and
    `cssec server components show`; nothing while the timestamp is fresh."""
    server = await tuf_server(servers, desk, clock, tmp_path)
    await server.login()
    fresh = await server.client.get("/dashboard")
    assert 'data-banner="components-stale"' not in fresh.text
    network.mode = "down"
    clock.advance(timedelta(days=2))
    assert (await poll(server, clock)).result == "failed"  # type: ignore[attr-defined]
    [event] = server.events(STALE)
    assert "Components stale since" in event.message_en
    # One wording (docs/style-ja.md): the event opens with the banner's title (the time in
    # the server's zone), as a client's refusal opens; no English phrase inside the Japanese.
    since = stale_since(server.settings.data_dir)
    assert since is not None
    banner = components_stale_banner(since, clock.now(), server.app.state.server.tz)
    assert banner is not None
    assert event.message_ja.startswith(banner.title["ja"])
    assert event.message_en.startswith(banner.title["en"].removesuffix(".") + ":")
    assert "stale" not in event.message_ja
    client_ja = ComponentsStale(since="2026-12-01 00:00:00", detail="-").message("ja")
    assert client_ja.startswith("コンポーネントは2026-12-01 00:00:00から最新か確認できていません。")
    for page in ("/dashboard", "/updates/components"):
        shown = await server.client.get(page)
        assert 'data-banner="components-stale"' in shown.text, page
        assert "から最新か確認できていません" in shown.text
    data = str(server.settings.data_dir)
    listed = CliRunner().invoke(server_cli.app, ["components", "show", "--data", data, "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["stale_since"] is not None
    said = CliRunner().invoke(
        server_cli.app, ["--lang", "en", "components", "show", "--data", data]
    )
    assert "Components stale since" in said.stderr


async def test_after_grace_a_tuf_client_is_refused_honestly(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """The FAQ's rule holds on the TUF path too: client manual update refused (403
    license_expired from the mirror), never reported as an update, components unchanged."""
    server = await tuf_server(servers, desk, clock, tmp_path)
    state = ClientState(tmp_path / "client")
    with client_of(server) as transport:
        install(state, transport, clock)
        slot = server.slot()
        after = grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1)
        clock.set(datetime(after.year, after.month, after.day, 3, 0, tzinfo=UTC))
        with pytest.raises(LicenseExpired) as refused:
            update(state, transport, clock)
    assert "Manual update of a C/S Sec. client is refused" in refused.value.message("en")
    assert client_versions(state) == V1


async def test_a_rollback_on_the_server_withholds_the_newer_set_from_tuf_clients(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """The administrator's rollback is a withholding TUF allows: a client that took the newer
    set steps back with the server, once, to the set it held before (files it still has:
    nothing to download), a new client gets the set the server distributes, and both get the
    newer set once the server applies it again."""
    server = await tuf_server(servers, desk, clock, tmp_path)
    poller = server.app.state.component_poller
    ahead, fresh = ClientState(tmp_path / "ahead"), ClientState(tmp_path / "fresh")
    with client_of(server) as transport:
        install(ahead, transport, clock)
        publish_virus_pattern_v2(desk)
        await poller.update_now(actor="t")
        assert update(ahead, transport, clock).versions == V2
        assert (await poller.rollback(actor="admin")).result == "rolled_back"
        transport.paths.clear()
        outcome = update(ahead, transport, clock)
        assert (outcome.stepped_back, outcome.changes) == (
            True,
            {Component.VIRUS_PATTERN: (2, 1)},
        )
        assert client_versions(ahead) == V1
        assert not any("/targets/" in p or "/files/" in p for p in transport.paths), (
            "nothing to download"
        )
        assert update(ahead, transport, clock).result == "up_to_date"
        assert install(fresh, transport, clock).versions == V1, "what the server distributes"
        assert client_holds_root(fresh.root)
        await poller.update_now(actor="admin")
        outcome = update(fresh, transport, clock)
        assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
        assert update(ahead, transport, clock).versions == V2
        assert update(ahead, transport, clock).result == "up_to_date"


async def test_a_client_that_skipped_the_set_rolled_back_to_stays_where_it_is(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """The step back goes only to the set the client held before: a client that went from
    1 straight to 3 stays on 3 (up to date, no failure) when its server rolls back to 2."""
    server = await tuf_server(servers, desk, clock, tmp_path)
    poller = server.app.state.component_poller
    skipper = ClientState(tmp_path / "skipper")
    with client_of(server) as transport:
        install(skipper, transport, clock)
        publish_virus_pattern_v2(desk)
        await poller.update_now(actor="t")
        data = (SEED / "virus_pattern.yar").read_bytes() + b"\n// version 3\n"
        with desk.vendor.session() as session:
            publish_component(session, "virus_pattern", data, actor="test")
        await poller.update_now(actor="t")
        assert update(skipper, transport, clock).changes == {Component.VIRUS_PATTERN: (1, 3)}
        assert (await poller.rollback(actor="admin")).result == "rolled_back"
        outcome = update(skipper, transport, clock)
        assert (outcome.result, outcome.stepped_back) == ("up_to_date", False)
        assert client_versions(skipper)[Component.VIRUS_PATTERN] == 3
