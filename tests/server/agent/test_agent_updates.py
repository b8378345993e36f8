"""The agent distribution endpoints on the real server: the vendor-signed manifest of the
server's current components, the files, and update results into the update log (client);
refused with license_expired after the grace period (in the request's language), allowed
in grace; the Web manager pages and the CLI commands that show and drive updates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.helpers.server import (
    PASSWORD,
    Desk,
    Server,
    ServerFactory,
    SwitchableTransport,
    SyncBridge,
    vendor_trust,
)
from tests.helpers.updates import activeupdate_calls, publish_virus_pattern_v2
from typer.testing import CliRunner

from cssec.client import cli as client_cli
from cssec.client.heartbeat import send_heartbeat
from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.updater import update_components
from cssec.clikit import error_line
from cssec.core.clock import FakeClock
from cssec.core.components import sha256_hex, verify_manifest
from cssec.core.errors import LicenseExpired
from cssec.core.license import LicenseState, Product, grace_end
from cssec.core.policy import Component, Operation, decide
from cssec.core.signing import VerifyingKey
from cssec.server import cli, cli_common
from cssec.server.updates.service import refusal

AGENT = "/api/v1/agent"
client_runner = CliRunner()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _enroll(server: Server, hostname: str = "pc-01") -> tuple[dict[str, str], Any]:
    response = await server.client.post(
        f"{AGENT}/enroll",
        json={"route": "autopcc", "install_token": None, "hostname": hostname, "os": "Linux"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    keys = {k.kid: k for k in (VerifyingKey.from_jwk(j) for j in body["vendor_keys"]["keys"])}
    return {"Authorization": f"Bearer {body['client_token']}"}, keys


def _set_day(clock: FakeClock, day: Any) -> None:
    clock.set(datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))


async def test_a_client_gets_the_signed_manifest_and_the_files(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    auth, keys = await _enroll(server)
    response = await server.client.get(f"{AGENT}/manifest", headers=auth)
    assert response.status_code == 200
    check = verify_manifest(response.json(), keys)
    assert check.value is not None, check.error
    for component, version in check.value.components.items():
        got = await server.client.get(
            f"{AGENT}/files/{component.value}/{version.sha256}", headers=auth
        )
        if component is Component.DAMAGE_CLEANUP_TEMPLATE:  # no DCS license: not held here
            assert (got.status_code, got.json()["code"]) == (403, "product_not_licensed")
            continue
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/octet-stream"
        assert sha256_hex(got.content) == version.sha256
    unknown = await server.client.get(f"{AGENT}/files/virus_pattern/{'0' * 64}", headers=auth)
    assert unknown.status_code == 404
    bad_name = await server.client.get(f"{AGENT}/files/nonsense/{'0' * 64}", headers=auth)
    assert bad_name.status_code == 404


async def test_the_agent_endpoints_need_a_client_token(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    for method, path in (("GET", "/manifest"), ("GET", f"/files/virus_pattern/{'0' * 64}")):
        response = await server.client.request(method, AGENT + path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    response = await server.client.post(
        f"{AGENT}/update-result", json={"result": "success", "versions": {}, "message": ""}
    )
    assert response.status_code == 401
    assert (await server.api("GET", f"{AGENT}/manifest")).status_code == 401, "admin is no client"


async def test_served_manifest_follows_the_servers_current_components(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    auth, keys = await _enroll(server)
    publish_virus_pattern_v2(desk)
    before = verify_manifest(
        (await server.client.get(f"{AGENT}/manifest", headers=auth)).json(), keys
    )
    assert before.value is not None
    assert before.value.components[Component.VIRUS_PATTERN].version == 1, "not polled yet"
    await server.app.state.component_poller.update_now(actor="t")
    after = verify_manifest(
        (await server.client.get(f"{AGENT}/manifest", headers=auth)).json(), keys
    )
    assert after.value is not None
    assert after.value.components[Component.VIRUS_PATTERN].version == 2


async def test_refused_after_grace_allowed_in_grace(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    auth, keys = await _enroll(server)
    envelope = (await server.client.get(f"{AGENT}/manifest", headers=auth)).json()
    manifest = verify_manifest(envelope, keys).value
    assert manifest is not None
    version = manifest.components[Component.SCAN_ENGINE]
    file_path = f"{AGENT}/files/scan_engine/{version.sha256}"
    slot = server.slot()

    _set_day(clock, slot.expires_on + timedelta(days=1))  # in grace: still served
    assert (await server.client.get(f"{AGENT}/manifest", headers=auth)).status_code == 200
    assert (await server.client.get(file_path, headers=auth)).status_code == 200

    _set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1))
    calls = activeupdate_calls(network)
    for lang, words in (("ja", "手動アップデートはできません"), ("en", "is refused")):
        response = await server.client.get(
            f"{AGENT}/manifest", headers={**auth, "Accept-Language": lang}
        )
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "license_expired"
        assert words in body["message"]
        assert body["operation"] == "client_manual_update"
    refused = await server.client.get(file_path, headers={**auth, "Accept-Language": "en"})
    assert refused.status_code == 403
    assert refused.json()["operation"] == "distribute_scan_engine"
    assert "Distributing the scan engine" in refused.json()["message"]
    assert activeupdate_calls(network) == calls

    # Reporting the refusal still lands in the update log (client).
    reported = await server.client.post(
        f"{AGENT}/update-result",
        headers=auth,
        json={"result": "refused", "versions": {"virus_pattern": 1}, "message": "refused"},
    )
    assert reported.status_code == 204
    await server.login()
    page = await server.client.get("/logs/updates/client?result=refused")
    assert 'data-result="refused"' in page.text
    assert "pc-01" in page.text


async def test_update_results_land_in_the_client_log(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    auth, _ = await _enroll(server, "pc-42")
    body = {"result": "success", "versions": {"virus_pattern": 2}, "message": "ウイルス 1 → 2"}
    assert (
        await server.client.post(f"{AGENT}/update-result", headers=auth, json=body)
    ).status_code == 204
    bad = {"result": "completed", "versions": {}, "message": ""}
    assert (
        await server.client.post(f"{AGENT}/update-result", headers=auth, json=bad)
    ).status_code == 422
    odd = {"result": "success", "versions": {"firmware": 1}, "message": ""}
    assert (
        await server.client.post(f"{AGENT}/update-result", headers=auth, json=odd)
    ).status_code == 422
    await server.login()
    page = _text((await server.client.get("/logs/updates/client?host=pc-4")).text)
    assert "pc-42" in page
    assert "ウイルスパターンファイル 2" in page
    assert "ウイルス 1 → 2" in page
    empty = _text((await server.client.get("/logs/updates/client?host=nobody")).text)
    assert "アップデートの記録はありません" in empty


async def test_components_page_update_now_and_rollback(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    page = await server.client.get("/updates/components")
    assert page.status_code == 200
    assert 'data-component="virus_pattern"' in page.text
    assert "コンポーネント" in page.text
    assert 'data-testid="rollback" disabled' in page.text

    publish_virus_pattern_v2(desk)
    token = await server.csrf("/updates/components")
    done = await server.client.post("/updates/components/update-now", data={"csrf_token": token})
    assert done.status_code == 303
    page = await server.client.get("/updates/components")
    text = _text(page.text)
    assert "コンポーネントをアップデートしました" in text
    assert re.search(r'data-component="virus_pattern">.*?data-field="current">2<', page.text, re.S)
    assert 'data-testid="rollback" disabled' not in page.text

    token = await server.csrf("/updates/components")
    await server.client.post("/updates/components/rollback", data={"csrf_token": token})
    page = await server.client.get("/updates/components")
    assert "以前のバージョンに戻しました" in _text(page.text)
    assert 'data-testid="held"' in page.text

    forged = await server.client.post("/updates/components/update-now", data={"csrf_token": "x"})
    assert forged.status_code == 303
    log = await server.client.get("/logs/updates/server", headers={"Accept-Language": "en"})
    assert log.status_code == 200
    english = await server.client.get("/logs/updates/server?result=rolled_back")
    assert english.text.count('data-result="rolled_back"') == 1


async def test_components_page_after_grace_says_why(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    slot = server.slot()
    _set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=3))
    await server.login()
    token = await server.csrf("/updates/components")
    await server.client.post("/updates/components/update-now", data={"csrf_token": token})
    html = (await server.client.get("/updates/components")).text
    page = _text(html)
    assert "ActiveUpdate サーバからのコンポーネントのダウンロードはできません" in page
    assert "新規入力" in page
    # One red box (the license banner), and a button that cannot be pressed.
    assert html.count("banner-danger") == 1, html
    assert re.search(r'data-testid="update-now" disabled', html)


runner = CliRunner()


@pytest.fixture
def _cli_vendor(monkeypatch: pytest.MonkeyPatch, network: SwitchableTransport) -> None:
    monkeypatch.setattr(cli_common, "vendor_transport", lambda: network)
    monkeypatch.setenv("CSSEC_SERVER_TIMEZONE", "Asia/Tokyo")


def _cli_install(tmp_path: Path, desk: Desk) -> str:
    password = tmp_path / "admin.pw"
    password.write_text(PASSWORD + "\n")
    data = str(tmp_path / "cli-server")
    code = desk.contract().codes["CS"]
    result = runner.invoke(
        cli.app,
        ["install", "--data", data, "--vendor-url", "http://vendor.test",
         "--admin-password-file", str(password), "--activation-code", code,
         "--vendor-key-fingerprint", vendor_trust(desk.vendor).fingerprints[0],
         "--insecure-http"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return data


@pytest.mark.usefixtures("_cli_vendor")
def test_cli_show_update_rollback(tmp_path: Path, desk: Desk) -> None:
    data = _cli_install(tmp_path, desk)
    shown = runner.invoke(cli.app, ["components", "show", "--data", data, "--json"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    # Without a Damage Cleanup Services license the template is not held (not downloaded).
    versions = [c["current"] and c["current"]["version"] for c in body["components"]]
    assert versions == [1, None, 1, 1]
    assert body["activeupdate_allowed"] is True

    publish_virus_pattern_v2(desk)
    updated = runner.invoke(cli.app, ["components", "update", "--data", data, "--lang", "en"])
    assert updated.exit_code == 0, updated.output
    assert "virus pattern file 1 → 2" in updated.stdout
    again = runner.invoke(cli.app, ["components", "update", "--data", data, "--lang", "en"])
    assert "up to date" in again.stdout

    rolled = runner.invoke(cli.app, ["components", "rollback", "--data", data])
    assert rolled.exit_code == 0, rolled.output
    twice = runner.invoke(cli.app, ["components", "rollback", "--data", data])
    assert twice.exit_code == 1
    assert "nothing_to_roll_back" in twice.stderr
    shown = runner.invoke(cli.app, ["components", "show", "--data", data])
    assert "ウイルスパターンファイル: 1" in shown.stdout


@pytest.mark.usefixtures("_cli_vendor")
def test_cli_update_fails_with_the_reason(
    tmp_path: Path, desk: Desk, network: SwitchableTransport
) -> None:
    data = _cli_install(tmp_path, desk)
    network.mode = "down"
    result = runner.invoke(cli.app, ["--lang", "en", "components", "update", "--data", data])
    assert result.exit_code == 1
    assert "component_update_failed" in result.stderr
    assert "ActiveUpdate could not be reached" in result.stderr


async def test_the_real_client_updates_from_the_real_server(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """cssec.client's own install and update code against this server (a sync transport
    into the app), before and after the grace period."""
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    publish_virus_pattern_v2(desk)
    await server.app.state.component_poller.update_now(actor="t")
    state = ClientState(tmp_path / "client")
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        transport = SyncBridge(http)
        installed = install_client(
            state, server_url="http://server.test", route="autopcc", install_token=None,
            clock=clock, lang="en", transport=transport,
        )  # fmt: skip
        assert installed.update_error is None, installed.update_error
        assert installed.update is not None
        assert installed.update.versions[Component.VIRUS_PATTERN] == 2

        slot = server.slot()
        _set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1))
        config = state.load_config()
        with (
            agent_for(config, lang="en", transport=transport) as agent,
            pytest.raises(LicenseExpired) as refused,
        ):
            update_components(state, agent, clock=clock, lang="en")
    assert "Manual update of a C/S Sec. client is refused" in refused.value.message("en")
    await server.login()
    page = await server.client.get("/logs/updates/client")
    assert page.text.count('data-result="success"') == 1
    # After the update: the template, not held without a DCS license; after grace: all.
    assert page.text.count('data-result="refused"') == 2
    assert "damage cleanup template is not available" in page.text


async def test_client_status_shows_the_license_the_server_reports(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    """A heartbeat tells the client the license's state and expiry; `cssec client status`
    shows it, and once expired tells the person at the PC to ask the administrator."""
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    state = ClientState(tmp_path / "client")
    status = ["status", "--dir", str(state.root)]
    before = client_runner.invoke(client_cli.app, ["--lang", "en", *status])
    assert "C/S Sec. license: unknown" in before.stdout
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        transport = SyncBridge(http)
        install_client(
            state, server_url="http://server.test", route="autopcc", install_token=None,
            clock=clock, lang="en", transport=transport,
        )  # fmt: skip
        with agent_for(state.load_config(), lang="en", transport=transport) as agent:
            send_heartbeat(state, agent, clock=clock, lang="en", run_cleanups=False)
        slot = server.slot()
        shown = client_runner.invoke(client_cli.app, ["--lang", "en", *status])
        assert f"C/S Sec. license: Activated (expires on {slot.expires_on}" in shown.stdout
        as_json = client_runner.invoke(client_cli.app, [*status, "--json"]).stdout
        assert json.loads(as_json)["license"]["state"] == "activated"
        _set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1))
        with agent_for(state.load_config(), lang="en", transport=transport) as agent:
            send_heartbeat(state, agent, clock=clock, lang="en", run_cleanups=False)
    japanese = client_runner.invoke(client_cli.app, ["--lang", "ja", *status]).stdout
    assert "C/S Sec.のライセンス: 契約期間終了" in japanese
    assert "管理者にお問い合わせください" in japanese


def test_cli_refusal_is_one_line_in_one_language() -> None:
    """`cssec server components update` after the grace period: the refusal is printed as
    `error: license_expired: <message>` in the chosen language only (never "ja / en")."""
    refused = refusal(decide(Product.CS, LicenseState.EXPIRED, Operation.ACTIVEUPDATE_DOWNLOAD))
    english = error_line(refused, "en")
    assert english.startswith("error: license_expired: ")
    assert not any("\u3040" <= ch <= "\u30ff" for ch in english), english
    japanese = error_line(refused, "ja")
    assert " / " not in japanese
    assert not re.search(r"[A-Za-z]{6,} [a-z]{4,}", japanese.split(": ", 2)[2]), japanese
