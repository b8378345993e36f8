"""Component bundles for air-gapped sites: `cssec vendor component bundle --code CODE`
writes one, `cssec server components import F` verifies it with TUF (the root the vendor
key endorses, as online) and installs it. A tampered, older, another site's or an expired
site's bundle is refused with the components unchanged and the refusal logged.

The air-gapped server is installed offline (the vendor's key given by fingerprint) and
never reaches the vendor: the network is down for it throughout. The clock is moved."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import current_versions, installed, publish_virus_pattern_v2

from cssec.core.clock import FakeClock
from cssec.core.errors import LicenseExpired
from cssec.core.policy import Component
from cssec.server.models import ServerUpdateLog
from cssec.server.updates.bundle import MAX_BUNDLE_BYTES, import_bundle
from cssec.server.updates.tuf_client import holds_root
from cssec.vendor_service.activeupdate.bundle import make_bundle
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root

V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}


def _bundle(desk: Desk, code: str) -> bytes:
    with desk.vendor.session() as session:
        return make_bundle(session, code, actor="test").data


async def _air_gapped(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, code: str
) -> Server:
    server = await servers.start(activation_code=code, offline=True)
    network.mode = "down"  # from here on no server reaches the vendor (the tests' vendor
    # is called in process by the bundle maker, not through this transport)
    return server


def _logs(server: Server) -> list[ServerUpdateLog]:
    with server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(ServerUpdateLog).order_by(ServerUpdateLog.id)))


async def _import(server: Server, data: bytes) -> object:
    env = server.app.state.server.license_env()
    return await import_bundle(env, data, actor="test")


def _rewrite(data: bytes, change: dict[str, bytes]) -> bytes:
    """The bundle with some members replaced (as someone on the way would)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(data)) as source,
        tarfile.open(fileobj=out, mode="w") as target,
    ):
        for member in source:
            handle = source.extractfile(member)
            assert handle is not None
            body = handle.read()
            for prefix, new in change.items():
                if member.name.startswith(prefix):
                    body = new
            info = tarfile.TarInfo(member.name)
            info.size = len(body)
            target.addfile(info, io.BytesIO(body))
    return out.getvalue()


@pytest.fixture
def tuf_vendor(desk: Desk, tmp_path: Path) -> Desk:
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    return desk


async def test_a_bundle_made_for_the_site_is_verified_and_installed(
    servers: ServerFactory,
    tuf_vendor: Desk,
    network: SwitchableTransport,
    clock: FakeClock,
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    assert installed(server).current is None, "an offline install has no components"
    contacts = len(network.requests)
    first = _bundle(tuf_vendor, code)
    clock.advance(timedelta(days=3))  # carried by hand: the timestamp inside has expired
    outcome = await _import(server, first)
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    assert current_versions(server) == V1
    assert holds_root(server.settings.data_dir)
    publish_virus_pattern_v2(tuf_vendor)
    second = _bundle(tuf_vendor, code)
    outcome = await _import(server, second)
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}  # type: ignore[attr-defined]
    assert current_versions(server) == V2
    again = await _import(server, second)
    assert again.result == "up_to_date"  # type: ignore[attr-defined]
    # The older bundle is a rollback: refused, nothing changes.
    older = await _import(server, first)
    assert older.result == "failed"  # type: ignore[attr-defined]
    assert older.cause == "older_bundle"  # type: ignore[attr-defined]
    assert "古いバンドル" in older.message["ja"]  # type: ignore[attr-defined]
    assert current_versions(server) == V2
    logs = _logs(server)
    assert [r.trigger for r in logs[-4:]] == ["bundle"] * 4
    assert [r.result for r in logs[-4:]] == ["success", "success", "up_to_date", "failed"]
    assert network.requests[contacts:] == [], "the server never asked the vendor"
    # Rollback (one step) works as after an online update.
    rolled = await server.app.state.component_poller.rollback(actor="admin")
    assert rolled.result == "rolled_back"
    assert current_versions(server) == V1


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ("targets/virus_pattern/", "hash_mismatch"),
        ("metadata/timestamp.json", "bad_bundle"),  # not the one bundle.json names
        ("keys.json", "untrusted_vendor_key"),  # fingerprint-only: no key matches
        ("bundle.json", "bad_bundle"),
    ],
)
async def test_a_tampered_bundle_is_refused(
    servers: ServerFactory,
    tuf_vendor: Desk,
    network: SwitchableTransport,
    change: str,
    cause: str,
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    assert (await _import(server, _bundle(tuf_vendor, code))).result == "success"  # type: ignore[attr-defined]
    publish_virus_pattern_v2(tuf_vendor)
    evil = b"rule Eicar_test_file { condition: true }\n"
    replacement = b"{}" if change.endswith(".json") else evil
    outcome = await _import(server, _rewrite(_bundle(tuf_vendor, code), {change: replacement}))
    assert outcome.result == "failed"  # type: ignore[attr-defined]
    assert outcome.cause == cause, outcome.message  # type: ignore[attr-defined]
    assert outcome.error.code in ("bundle_refused", "untrusted_vendor_key")  # type: ignore[attr-defined]
    assert current_versions(server) == V1
    assert not (server.settings.data_dir / "components" / "virus_pattern" / "2").exists()


async def test_garbage_and_another_sites_bundle_are_refused(
    servers: ServerFactory, tuf_vendor: Desk, network: SwitchableTransport
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    other = tuf_vendor.contract(customer="株式会社ほか").codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    for data, cause in ((b"not a tar", "bad_bundle"), (_bundle(tuf_vendor, other), "other_site")):
        outcome = await _import(server, data)
        assert outcome.cause == cause, outcome.message  # type: ignore[attr-defined]
        assert installed(server).current is None
    assert "別" not in outcome.message["en"]  # type: ignore[attr-defined]
    assert "another site" in outcome.message["en"]  # type: ignore[attr-defined]


async def test_after_grace_the_policy_refuses_as_online(
    servers: ServerFactory,
    tuf_vendor: Desk,
    network: SwitchableTransport,
    clock: FakeClock,
) -> None:
    code = tuf_vendor.contract(start=date(2026, 1, 1)).codes["CS"]  # ends 2026-12-31
    server = await _air_gapped(servers, tuf_vendor, network, code)
    made = _bundle(tuf_vendor, code)
    clock.set(clock.now().replace(year=2027, month=2, day=1))  # the grace has ended
    # The vendor refuses to make one, with the online refusal's code.
    with pytest.raises(LicenseExpired):
        _bundle(tuf_vendor, code)
    # One made in time is refused by the server's own policy, as an online update is.
    outcome = await _import(server, made)
    assert outcome.result == "refused"  # type: ignore[attr-defined]
    assert outcome.cause == "license_expired"  # type: ignore[attr-defined]
    assert isinstance(outcome.error, LicenseExpired)  # type: ignore[attr-defined]
    assert installed(server).current is None


def _cssec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cssec", *args], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


async def test_the_command_lines_as_real_processes(
    servers: ServerFactory,
    tuf_vendor: Desk,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    out = tmp_path / "site.bundle"
    vendor_data = str(tuf_vendor.vendor.settings.data_dir)
    made = _cssec("vendor", "--lang", "en", "component", "bundle", "--code", code,
                  "--out", str(out), "--data", vendor_data)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "written to" in made.stdout
    data = str(server.settings.data_dir)
    run = _cssec("server", "--lang", "en", "components", "import", str(out), "--data", data)
    assert run.returncode == 0, run.stderr
    assert "Components updated" in run.stdout
    assert current_versions(server) == V1
    out.write_bytes(b"garbage")
    bad = _cssec("server", "--lang", "en", "components", "import", str(out), "--data", data)
    assert bad.returncode == 1
    assert "bundle_refused" in bad.stderr
    assert "not a component bundle" in bad.stderr
    other = _cssec("vendor", "component", "bundle", "--code", "AB" * 5, "--out",
                   str(tmp_path / "other.bundle"),
                   "--data", vendor_data)  # fmt: skip
    assert other.returncode == 1
    assert "invalid_activation_code" in other.stderr


async def test_the_components_page_uploads_a_bundle(
    servers: ServerFactory, tuf_vendor: Desk, network: SwitchableTransport
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    data = _bundle(tuf_vendor, code)
    url = "/updates/components/import"
    files = {"bundle_file": ("site.bundle", data, "application/x-tar")}
    # Not signed in: nothing is read or imported.
    anonymous = await server.client.post(url, files=files, data={"csrf_token": "x"})
    assert anonymous.status_code in (302, 303, 401)
    assert installed(server).current is None
    await server.login()
    page = await server.client.get("/updates/components")
    assert 'data-testid="bundle-import"' in page.text
    assert "バンドルを取り込む" in page.text
    # A wrong CSRF token: refused, nothing imported.
    forged = await server.client.post(url, files=files, data={"csrf_token": "forged"})
    assert forged.status_code == 303
    assert installed(server).current is None
    token = await server.csrf("/updates/components")
    done = await server.client.post(url, files=files, data={"csrf_token": token})
    assert done.status_code == 303
    assert current_versions(server) == V1
    shown = await server.client.get("/updates/components")
    assert "コンポーネントをアップデートしました" in shown.text
    # A damaged file: a clear message on the page, the components unchanged.
    token = await server.csrf("/updates/components")
    files = {"bundle_file": ("site.bundle", b"garbage", "application/octet-stream")}
    await server.client.post(url, files=files, data={"csrf_token": token})
    shown = await server.client.get("/updates/components")
    assert "コンポーネントバンドルを取り込めませんでした" in shown.text
    assert current_versions(server) == V1
    # A form it cannot take (two files): refused with the same clear message.
    token = await server.csrf("/updates/components")
    two = [("bundle_file", ("a", data, "x/y")), ("bundle_file", ("b", data, "x/y"))]
    answer = await server.client.post(url, files=two, data={"csrf_token": token})
    assert answer.status_code == 303
    shown = await server.client.get("/updates/components")
    assert "コンポーネントバンドルを取り込めませんでした" in shown.text
    # Larger than a bundle may be: 413 before anything is read.
    token = await server.csrf("/updates/components")
    huge = {"bundle_file": ("big", b"\0" * (MAX_BUNDLE_BYTES + 128 * 1024), "x/y")}
    too_big = await server.client.post(url, files=huge, data={"csrf_token": token})
    assert too_big.status_code == 413
    assert current_versions(server) == V1


async def test_a_bundle_carries_a_root_rotation(
    servers: ServerFactory,
    tuf_vendor: Desk,
    network: SwitchableTransport,
    tmp_path: Path,
) -> None:
    code = tuf_vendor.contract().codes["CS"]
    server = await _air_gapped(servers, tuf_vendor, network, code)
    assert (await _import(server, _bundle(tuf_vendor, code))).result == "success"  # type: ignore[attr-defined]
    # The root keys are replaced (a compromise): the new root is signed by old and new keys.
    old, new = tmp_path / "root-keys", tmp_path / "new-root-keys"
    init_root_keys(new, threshold=2, count=3)
    with tuf_vendor.vendor.session() as session:
        assert install_root(session, load_root_keys(new), old_keys=load_root_keys(old)) == 2
    publish_virus_pattern_v2(tuf_vendor)
    outcome = await _import(server, _bundle(tuf_vendor, code))
    assert outcome.result == "success", outcome.message  # type: ignore[attr-defined]
    assert current_versions(server) == V2
    history = server.settings.data_dir / "tuf" / "root_history"
    assert (history / "2.root.json").is_file()
