"""Server ActiveUpdate: install downloads v1, the hourly poll picks up v2, every bad answer
is refused and logged with the previous version still current, and after the grace period
the vendor is not even asked. The clock is moved; nothing sleeps."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.updates import (
    activeupdate_calls,
    bump_version,
    current_versions,
    flip_first_byte,
    installed,
    meddle,
    publish_virus_pattern_v2,
    resign_with_foreign_key,
)

from cssec.core.clock import FakeClock
from cssec.core.components import COMPONENT_FILENAMES
from cssec.core.license import grace_end
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey
from cssec.server.licensing.trust import VendorTrust
from cssec.server.models import ServerUpdateLog
from cssec.server.updates import store as store_module
from cssec.server.updates.errors import ComponentUpdateFailed

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}


def log_rows(server: Server) -> list[ServerUpdateLog]:
    with server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(ServerUpdateLog).order_by(ServerUpdateLog.id)))


async def _server(servers: ServerFactory, desk: Desk) -> Server:
    return await servers.start(activation_code=desk.contract().codes["CS"])


async def _poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


async def test_online_install_downloads_the_current_components(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await _server(servers, desk)
    assert current_versions(server) == V1
    root = server.settings.data_dir / "components"
    for component, name in COMPONENT_FILENAMES.items():
        # The Damage Cleanup template needs the DCS code (test_template_entitlement.py).
        held = component is not Component.DAMAGE_CLEANUP_TEMPLATE
        assert (root / component.value / "1" / name).is_file() is held
    [row] = log_rows(server)
    assert (row.trigger, row.result) == ("install", "success")
    assert "ウイルスパターンファイル 1（新規）" in row.message_ja
    assert "- →" not in row.message_ja


async def test_install_fails_cleanly_when_the_download_fails(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, tmp_path: Path
) -> None:
    code = desk.contract().codes["CS"]
    meddle(network).cut_files = True
    with pytest.raises(ComponentUpdateFailed) as refused:
        await servers.install(activation_code=code)
    assert refused.value.cause == "truncated"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".server1", "server1"))]  # noqa: ASYNC240
    assert leftovers == []


async def test_hourly_poll_picks_up_a_new_version(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server = await _server(servers, desk)
    poller = server.app.state.component_poller
    calls = activeupdate_calls(network)
    clock.advance(timedelta(minutes=59))
    assert await poller.run_update_if_due() is None, "not due within the hour"
    assert activeupdate_calls(network) == calls

    clock.advance(timedelta(minutes=1))
    outcome = await poller.run_update_if_due()
    assert outcome.result == "up_to_date"
    assert activeupdate_calls(network) == calls + 1, "the manifest only: nothing changed"

    publish_virus_pattern_v2(desk)
    outcome = await _poll(server, clock)
    assert outcome.result == "success"
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
    assert current_versions(server) == V2
    assert installed(server).previous is not None
    assert activeupdate_calls(network) == calls + 3, "manifest + the one changed file"
    root = server.settings.data_dir / "components" / "virus_pattern"
    assert sorted(p.name for p in root.iterdir()) == ["1", "2"], "the previous version is kept"
    assert [r.result for r in log_rows(server)] == ["success", "up_to_date", "success"]
    assert log_rows(server)[-1].trigger == "schedule"


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        ("tampered_manifest", "bad_manifest"),
        ("wrong_key", "bad_manifest"),
        ("tampered_file", "hash_mismatch"),
        ("truncated", "truncated"),
        ("vendor_down", "vendor_unreachable"),
    ],
)
async def test_a_bad_update_is_refused_logged_and_changes_nothing(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    damage: str,
    cause: str,
) -> None:
    server = await _server(servers, desk)
    publish_virus_pattern_v2(desk)
    meddler = meddle(network)
    if damage == "tampered_manifest":
        meddler.manifest = bump_version
    elif damage == "wrong_key":
        meddler.manifest = resign_with_foreign_key
    elif damage == "tampered_file":
        meddler.file = flip_first_byte
    elif damage == "truncated":
        meddler.cut_files = True
    else:
        network.mode = "down"
    outcome = await _poll(server, clock)
    assert outcome.result == "failed"
    assert outcome.cause == cause
    assert current_versions(server) == V1
    row = log_rows(server)[-1]
    assert (row.result, row.cause) == ("failed", cause)
    assert "現在のコンポーネントはそのまま使用されます" in row.message_ja
    assert "The current components stay in use" in row.message_en
    assert not (server.settings.data_dir / "components" / "virus_pattern" / "2").exists()

    # Once the damage is gone, the next poll succeeds.
    meddler.manifest = meddler.file = None
    meddler.cut_files = False
    network.mode = "up"
    assert (await _poll(server, clock)).result == "success"
    assert current_versions(server) == V2


async def test_a_full_disk_is_refused_and_logged(
    servers: ServerFactory, desk: Desk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await _server(servers, desk)
    publish_virus_pattern_v2(desk)

    def full(self: object, version: object, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module.ComponentStore, "write", full)
    outcome = await _poll(server, clock)
    assert (outcome.result, outcome.cause) == ("failed", "disk_error")
    assert "ENOSPC" in log_rows(server)[-1].message_en
    assert current_versions(server) == V1


async def test_after_the_grace_period_activeupdate_is_not_even_asked(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    publish_virus_pattern_v2(desk)
    slot = server.slot()
    last_grace_day = grace_end(slot.expires_on, slot.grace_days)
    clock.set(datetime.combine(last_grace_day, datetime.min.time(), tzinfo=UTC))
    assert (await server.app.state.component_poller.update_now(actor="t")).result == "success"

    clock.set(datetime.combine(last_grace_day + timedelta(days=2), datetime.min.time(), tzinfo=UTC))
    requests = len(network.requests)
    outcome = await _poll(server, clock)
    assert (outcome.result, outcome.cause) == ("refused", "license_expired")
    assert len(network.requests) == requests, "no request at all reached the vendor"
    row = log_rows(server)[-1]
    assert row.result == "refused"
    assert "ActiveUpdate サーバからのコンポーネントのダウンロードはできません" in row.message_ja
    assert "新規入力" in row.message_ja
    assert "Renew the contract" in row.message_en
    assert current_versions(server) == V2, "what the server has stays"


async def test_rollback_and_the_hold(servers: ServerFactory, desk: Desk, clock: FakeClock) -> None:
    server = await _server(servers, desk)
    poller = server.app.state.component_poller
    publish_virus_pattern_v2(desk)
    assert (await _poll(server, clock)).result == "success"

    outcome = await poller.rollback(actor="admin")
    assert outcome.result == "rolled_back"
    assert current_versions(server) == V1
    assert installed(server).previous is None
    held = await _poll(server, clock)
    assert (held.result, held.cause) == ("up_to_date", "held")
    assert current_versions(server) == V1, "the hourly poll does not undo a rollback"

    again = await poller.update_now(actor="admin")
    assert again.result == "success"
    assert current_versions(server) == V2
    assert installed(server).held_serial is None
    assert [r.result for r in log_rows(server)][-3:] == ["rolled_back", "up_to_date", "success"]


async def test_offline_install_has_no_components_until_the_first_update(
    servers: ServerFactory, desk: Desk
) -> None:
    # The offline operator pins the whole vendor keys (`--vendor-keys-file`), so clients can
    # enroll before any response file; with a fingerprint alone they get vendor_keys_not_pinned.
    keys = tuple(VerifyingKey.from_jwk(k) for k in desk.vendor.keyring.jwks()["keys"])
    server = await servers.start(
        activation_code=desk.contract().codes["CS"], offline=True, trust=VendorTrust(keys=keys)
    )
    assert installed(server).current is None
    enrolled = await server.client.post(
        "/api/v1/agent/enroll",
        json={"route": "autopcc", "install_token": None, "hostname": "pc", "os": "Linux"},
    )
    auth = {"Authorization": f"Bearer {enrolled.json()['client_token']}"}
    missing = await server.client.get("/api/v1/agent/manifest", headers=auth)
    assert missing.status_code == 503
    assert missing.json()["code"] == "components_unavailable"
    await server.login()
    page = await server.client.get("/updates/components", headers={"Accept-Language": "en"})
    assert 'data-testid="no-components"' in page.text
    outcome = await server.app.state.component_poller.update_now(actor="admin")
    assert outcome.result == "success"
    assert current_versions(server) == V1
    assert (await server.client.get("/api/v1/agent/manifest", headers=auth)).status_code == 200
