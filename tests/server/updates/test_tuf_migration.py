"""Upgrading a server of the signed-manifest era to TUF, without a reinstall.

The data directory is what such a server holds: components installed and updated through
the bare signed manifest (a current and a previous set, the database at the schema of the
last release before TUF), no `tuf/` directory. Meanwhile the vendor rotated its signing
key and installed a TUF root. The upgraded server (a new process on the same data
directory: the database migrated to head) moves to TUF at its next update: the vendor's
current signing key, learned through the rotation chain from the pinned one, vouches for
the TUF root once; the installed components stay as they are (nothing downloaded again),
rollback still reaches the manifest-era set, and the next publish arrives through TUF."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import current_versions, installed, publish_virus_pattern_v2

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server.storage.datadir import MIGRATIONS, sqlite_engine
from cssec.server.updates.tuf_client import holds_root, metadata_dir
from cssec.vendor_service.activeupdate.services import publish_component

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}
V3 = {**V2, Component.SPYWARE_PATTERN: 2}
LAST_RELEASE_BEFORE_TUF = "f3c4d5e6f7a8"  # the server schema head when TUF landed
SPYWARE_V2 = b'rule Cssec_Spyware_V2 { strings: $a = "CSSEC-SPYWARE-V2" condition: $a }\n'


async def _poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


def _files(server: Server) -> dict[str, bytes]:
    root = server.settings.data_dir / "components"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _back_to_the_last_release_before_tuf(data_dir: Path) -> None:
    engine = sqlite_engine(data_dir / "server.db")
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, LAST_RELEASE_BEFORE_TUF)
    finally:
        engine.dispose()


async def test_a_manifest_era_server_moves_to_tuf_on_upgrade_without_a_reinstall(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    # The old era: the vendor serves the signed manifest only.
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    old = servers.open(settings)
    publish_virus_pattern_v2(desk)
    assert (await _poll(old, clock)).result == "success"  # type: ignore[attr-defined]
    assert current_versions(old) == V2
    assert installed(old).previous is not None
    assert not metadata_dir(settings.data_dir).exists()
    assert any("/api/v1/activeupdate/manifest" in r for r in network.requests)
    files = _files(old)
    await old.client.aclose()
    old.app.state.server.engine.dispose()
    servers.servers.remove(old)
    _back_to_the_last_release_before_tuf(settings.data_dir)

    # The vendor moves on: a new signing key, then a TUF root endorsed by it.
    desk.vendor.keyring.rotate()
    install_tuf_root(desk.vendor, tmp_path / "root-keys")

    # The upgrade: the new code opens the same data directory.
    server = servers.open(settings)
    assert current_versions(server) == V2, "the database migrated with its components"
    before = len(network.requests)
    outcome = await _poll(server, clock)
    assert outcome.result == "up_to_date", outcome.message  # type: ignore[attr-defined]
    assert holds_root(settings.data_dir)
    calls = network.requests[before:]
    assert sum("/api/v1/tuf/root-endorsement" in c for c in calls) == 1
    assert not any("/api/v1/activeupdate/" in c for c in calls), "no bare manifest asked"
    assert not any("/api/v1/tuf/targets/virus_pattern/" in c for c in calls), (
        "the installed files are kept, not downloaded again"
    )
    assert _files(server) == files
    assert server.events("vendor.keys_rotated"), "the new signing key learned by its chain"

    # Rollback still reaches the set installed through the manifest.
    rolled = await server.app.state.component_poller.rollback(actor="admin")
    assert rolled.result == "rolled_back"
    assert current_versions(server) == V1
    assert (await server.app.state.component_poller.update_now(actor="admin")).result == ("success")
    assert current_versions(server) == V2

    # The next publish arrives through TUF; the root is not endorsed again.
    with desk.vendor.session() as session:
        publish_component(session, "spyware_pattern", SPYWARE_V2, actor="test")
    before = len(network.requests)
    outcome = await _poll(server, clock)
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    assert current_versions(server) == V3
    calls = network.requests[before:]
    assert any("/api/v1/tuf/targets/spyware_pattern/" in c for c in calls)
    assert not any("root-endorsement" in c or "/api/v1/activeupdate/" in c for c in calls)
