"""Clients on the real server: enrollment by the three routes (web, remote, AutoPcc), client
authentication, the virus log and heartbeat, and the Web manager pages that show them."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.helpers.server import PASSWORD, Desk, Server, ServerFactory

from cssec.core.clock import FakeClock
from cssec.server.models import Client, ConnectionLogEntry, InstallToken
from cssec.server.webmanager.clients_pages import cssec_program

ENROLL = "/api/v1/agent/enroll"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _server(servers: ServerFactory, desk: Desk, **settings: Any) -> Server:
    installed = await servers.install(activation_code=desk.contract().codes["CS"])
    return servers.open(installed.model_copy(update=settings))


async def _issue(server: Server, route: str = "web", hostname: str = "") -> str:
    """Issue a token from the Web manager page and read it off the command it shows."""
    page = await server.client.get(f"/clients/install/{route}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"csrf_token": token.group(1), "directory": "/opt/cssec client"}
    if hostname:
        form["hostname"] = hostname
    response = await server.client.post(f"/clients/install/{route}", data=form)
    assert response.status_code == 200
    command = re.search(r'data-testid="install-command">([^<]+)</pre>', response.text)
    assert command, response.text
    text = command.group(1).replace("&#39;", "'")
    assert f"--route {route}" in text
    assert "--dir '/opt/cssec client'" in text
    # The installation's own cssec by its full path (a bare `cssec` is seldom on PATH).
    program = shlex.join(cssec_program())
    assert text.startswith(f"{program} client install --server http://server.test --token ")
    assert Path(shlex.split(text)[0]).is_absolute()
    found = re.search(r"--token (\S+)", text)
    assert found
    return found.group(1)


def _body(route: str, token: str | None = None, hostname: str = "pc-01") -> dict[str, Any]:
    return {
        "route": route,
        "install_token": token,
        "hostname": hostname,
        "os": "Linux-6.1-x86_64",
        "agent_version": "0.1.0",
    }


async def _enroll(
    server: Server, route: str, token: str | None = None, hostname: str = "pc-01", **kw: Any
) -> httpx.Response:
    client = kw.get("client") or server.client
    return await client.post(ENROLL, json=_body(route, token, hostname), headers=kw.get("headers"))


def _agent(server: Server, token: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client's own connection: no cookies, its bearer token, its source address."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app, client=(address, 40000)),
        base_url="http://server.test",
        headers={"Authorization": f"Bearer {token}"},
    )


def _rows(server: Server, model: Any) -> list[Any]:
    with server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(model).order_by(model.id)))


async def test_web_install_token_is_single_use(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    await server.login()
    token = await _issue(server, "web")
    # Only the hash is stored.
    stored = _rows(server, InstallToken)
    assert len(stored) == 1
    assert token not in stored[0].token_hash
    [issued] = server.events("client.install_token_web")
    for said in (issued.message_ja, issued.message_en):  # no raw ISO time (docs/style-ja.md)
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", said), said
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)", said), said
    response = await _enroll(server, "web", token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"client_id", "client_token", "server_id", "vendor_keys"}
    assert body["vendor_keys"]["keys"], "the pinned vendor keys travel to the client"
    assert body["vendor_keys"]["keys"][0]["kty"] == "OKP"
    again = await _enroll(server, "web", token, hostname="pc-02")
    assert again.status_code == 403
    assert again.json()["code"] == "invalid_install_token"
    assert "新しいインストールトークン" in again.json()["message"]
    # A token of the web route is no remote token, and guesses are refused alike.
    other = await _issue(server, "web")
    assert (await _enroll(server, "remote", other)).json()["code"] == "invalid_install_token"
    assert (await _enroll(server, "web", "x" * 43)).json()["code"] == "invalid_install_token"
    assert (await _enroll(server, "web", None)).json()["code"] == "invalid_install_token"
    page = await server.client.get("/clients/install/web")
    assert page.text.count('data-token-status="used"') == 1
    assert page.text.count('data-token-status="pending"') == 1
    assert token not in page.text, "a token is shown once, when it is issued"
    clients = _rows(server, Client)
    assert [(c.hostname, c.route) for c in clients] == [("pc-01", "web")]
    assert clients[0].uid == body["client_id"]
    assert body["client_token"] not in clients[0].token_hash


async def test_expired_install_token_is_refused(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk, install_token_hours=2)
    await server.login()
    token = await _issue(server, "web")
    clock.advance(timedelta(hours=2, seconds=1))
    response = await _enroll(server, "web", token, headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert response.json()["code"] == "install_token_expired"
    assert "Issue a new install token" in response.json()["message"]
    page = await server.client.get("/clients/install/web")
    assert 'data-token-status="expired"' in page.text


async def test_remote_install_is_bound_to_its_host(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    await server.login()
    token = await _issue(server, "remote", hostname="PC-042")
    pending = await server.client.get("/clients/install/remote")
    assert "PC-042" in pending.text
    assert 'data-token-status="pending"' in pending.text
    wrong = await _enroll(server, "remote", token, hostname="pc-099")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "install_token_wrong_host"
    assert "PC-042" in wrong.json()["message"]
    # A refusal does not use the token up; the right host (FQDN, any case) gets in.
    right = await _enroll(server, "remote", token, hostname="pc-042.office.example")
    assert right.status_code == 200, right.text
    assert (await _enroll(server, "remote", token, hostname="PC-042")).status_code == 403
    assert 'data-token-status="used"' in (await server.client.get("/clients/install/remote")).text


async def test_remote_install_needs_a_host_name(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    await server.login()
    page = await server.client.get("/clients/install/remote")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    response = await server.client.post(
        "/clients/install/remote", data={"csrf_token": csrf.group(1), "hostname": "  "}
    )
    assert response.status_code == 303
    assert "ホスト名を入力" in (await server.client.get("/clients/install/remote")).text
    no_csrf = await server.client.post("/clients/install/web", data={"csrf_token": "forged"})
    assert no_csrf.status_code == 303
    assert _rows(server, InstallToken) == []


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.20.30.40", True),
        ("172.16.5.4", True),
        ("192.168.1.20", True),
        ("::1", True),
        ("fd00::20", True),
        ("203.0.113.7", False),
        ("172.32.0.1", False),
        ("2001:db8::1", False),
    ],
)
async def test_autopcc_only_from_private_networks(
    servers: ServerFactory, desk: Desk, address: str, allowed: bool
) -> None:
    server = await _server(servers, desk)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app, client=(address, 50000)),
        base_url="http://server.test",
        headers={"Accept-Language": "en"},
    ) as remote:
        response = await _enroll(server, "autopcc", client=remote)
    if allowed:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 403
    assert response.json()["code"] == "autopcc_not_allowed"
    assert address in response.json()["message"]
    assert "--token" in response.json()["message"]
    assert _rows(server, Client) == []
    refused = _rows(server, ConnectionLogEntry)
    assert [(r.action, r.status, r.ip) for r in refused] == [
        ("enroll", "autopcc_not_allowed", address)
    ]


async def test_autopcc_networks_setting_and_rate_limit(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(
        servers, desk, autopcc_networks=["198.51.100.0/24"], enroll_rate_limit="3/minute"
    )
    assert (await _enroll(server, "autopcc")).json()["code"] == "autopcc_not_allowed"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app, client=("198.51.100.9", 1)),
        base_url="http://server.test",
    ) as lan:
        # Counted per source address: the refusal from 127.0.0.1 above is not this one's.
        for _ in range(3):
            assert (await _enroll(server, "autopcc", client=lan)).status_code == 200
        limited = await _enroll(server, "autopcc", client=lan)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


async def test_enrollment_reports_and_logs_work_after_the_license_expired(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract()
    server = servers.open(await servers.install(activation_code=contract.codes["CS"]))
    await server.login()
    end = contract.end + timedelta(days=45)
    clock.set(datetime(end.year, end.month, end.day, 3, 0, tzinfo=UTC))
    token = await _issue(server, "web")
    licenses = await server.api("GET", "/api/v1/licenses")
    assert licenses.json()[0]["status"] == "expired"
    web = await _enroll(server, "web", token)
    assert web.status_code == 200, web.text
    auto = await _enroll(server, "autopcc", hostname="pc-02")
    assert auto.status_code == 200, auto.text
    async with _agent(server, auto.json()["client_token"]) as agent:
        detection = {"path": "/home/a/eicar.com", "threat": "Eicar_test_file", "action": "report"}
        logged = await agent.post(
            "/api/v1/agent/virus-log", json={"scan_type": "realtime", "detections": [detection]}
        )
        assert logged.status_code == 204
        beat = await agent.post("/api/v1/agent/heartbeat", json={"status": "online"})
        assert beat.status_code == 200
    page = _text((await server.client.get("/logs/virus")).text)
    assert "Eicar_test_file" in page
    assert "pc-02" in page


async def test_virus_log_and_heartbeat_land_in_their_logs(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk)
    await server.login()
    enrolled = (await _enroll(server, "autopcc", hostname="accounting-pc")).json()
    detection = {
        "path": "/srv/share/eicar.com",
        "threat": "Eicar_test_file",
        "component": "virus_pattern",
        "component_version": 1,
        "rule": "EICAR_Test_File",
        "sha256": "ab" * 32,
        "action": "quarantine",
        "something_new": "ignored",
    }
    async with _agent(server, enrolled["client_token"], "192.168.1.20") as agent:
        response = await agent.post(
            "/api/v1/agent/virus-log", json={"scan_type": "scan_now", "detections": [detection]}
        )
        assert response.status_code == 204, response.text
        beat = await agent.post("/api/v1/agent/heartbeat", json={"status": "online"})
        assert beat.json()["license"]["state"] == "activated"
        assert {k: v for k, v in beat.json().items() if k != "license"} == {
            "realtime_scan": True,
            "realtime_folders": None,
            "outbreak_policy": None,
            "cleanup_requests": [],
        }
        bad = await agent.post("/api/v1/agent/virus-log", json={"scan_type": "weekly"})
        assert bad.status_code == 422
    virus = _text((await server.client.get("/logs/virus?threat=eicar")).text)
    assert "accounting-pc" in virus
    assert "/srv/share/eicar.com" in virus
    assert "隔離" in virus
    assert "ウイルスパターンファイル 1" in virus
    assert "virus_pattern" not in virus, "the component is named by its label"
    assert enrolled["client_id"][:8] in virus, "the virus log names the client, not only its host"
    assert "192.168.1.20" in virus
    assert "検出はありません" in _text((await server.client.get("/logs/virus?threat=nimda")).text)
    listing = await server.client.get("/clients")
    assert 'data-status="online"' in listing.text
    assert "192.168.1.20" in listing.text
    clock.advance(timedelta(minutes=31))
    assert 'data-status="offline"' in (await server.client.get("/clients")).text
    log = _rows(server, ConnectionLogEntry)
    assert [(r.action, r.status) for r in log] == [
        ("enroll", "ok"),
        ("virus-log", "ok"),
        ("heartbeat", "online"),
        ("virus-log", "ok"),
    ]
    page = _text((await server.client.get("/logs/connection?host=accounting")).text)
    assert "192.168.1.20" in page
    assert "稼働確認" in page
    assert "ウイルスログの送信" in page
    assert "heartbeat" not in page
    assert "(4 件)" in page
    english = _text(
        (await server.client.get("/logs/connection", headers={"Accept-Language": "en"})).text
    )
    assert "Heartbeat" in english
    assert "Virus log upload" in english
    assert "virus-log" not in english


async def test_any_contact_counts_as_online(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    """Right after install (no heartbeat yet) a client is online; an update or log upload
    keeps it so. Two hosts of one name are told apart by id and address."""
    server = await _server(servers, desk)
    await server.login()
    first = (await _enroll(server, "autopcc", hostname="vm")).json()
    clock.advance(timedelta(minutes=3))
    second = (await _enroll(server, "autopcc", hostname="vm")).json()
    listing = (await server.client.get("/clients")).text
    assert listing.count('data-status="online"') == 2
    assert first["client_id"][:8] in listing
    assert second["client_id"][:8] in listing
    clock.advance(timedelta(minutes=31))
    async with _agent(server, first["client_token"], "192.168.1.21") as agent:
        result = {"result": "up_to_date", "versions": {}, "message": "-"}
        assert (await agent.post("/api/v1/agent/update-result", json=result)).status_code == 204
    listing = (await server.client.get("/clients")).text
    assert listing.count('data-status="online"') == 1, "the update counted, the install aged"
    assert "192.168.1.21" in listing


async def test_logs_page_and_filter(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    await server.login()
    enrolled = (await _enroll(server, "autopcc", hostname="pc-a")).json()
    detections = [
        {"path": f"/data/f{i}", "threat": "Eicar_test_file" if i % 2 else "Spyware_Test_File"}
        for i in range(60)
    ]
    async with _agent(server, enrolled["client_token"]) as agent:
        response = await agent.post(
            "/api/v1/agent/virus-log", json={"scan_type": "scan_now", "detections": detections}
        )
        assert response.status_code == 204
    first = _text((await server.client.get("/logs/virus")).text)
    assert "2 ページ中 1 ページ目 (60 件)" in first
    second = await server.client.get("/logs/virus?page=2&threat=&host=&scan_type=")
    assert "/data/f0" in second.text
    spyware = _text((await server.client.get("/logs/virus?threat=spyware")).text)
    assert "(30 件)" in spyware
    failures = _text((await server.client.get("/logs/connection?failures=1")).text)
    assert "接続の記録はありません" in failures
    english = await server.client.get("/logs/virus", headers={"Accept-Language": "en"})
    assert "Page 1 of 2 (60 entries)" in _text(english.text)


async def test_client_and_admin_credentials_do_not_cross(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await _server(servers, desk)
    enrolled = (await _enroll(server, "autopcc")).json()
    async with _agent(server, enrolled["client_token"]) as agent:
        # A client token is no admin credential ...
        assert (await agent.get("/api/v1/licenses")).status_code == 401
        assert (await agent.get("/clients")).status_code == 303
    # ... and the admin (session or HTTP Basic) is no client.
    await server.login()
    assert (await server.client.get("/clients")).status_code == 200
    session_call = await server.client.post("/api/v1/agent/heartbeat", json={"status": "online"})
    assert session_call.status_code == 401
    assert session_call.json()["code"] == "not_authenticated"
    basic = await server.client.post(
        "/api/v1/agent/virus-log",
        json={"scan_type": "scan_now", "detections": []},
        auth=("admin", PASSWORD),
    )
    assert basic.status_code == 401
    async with _agent(server, "not-a-token") as forged:
        assert (await forged.post("/api/v1/agent/heartbeat", json={})).status_code == 401
    statuses = [(r.action, r.status) for r in _rows(server, ConnectionLogEntry)]
    assert statuses == [("enroll", "ok"), ("heartbeat", "not_authenticated")]


async def test_client_pages_need_a_login(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    for path in (
        "/clients",
        "/clients/install/web",
        "/clients/install/remote",
        "/logs/virus",
        "/logs/connection",
    ):
        response = await server.client.get(path)
        assert response.status_code == 303, path
    response = await server.client.post("/clients/install/web", data={"csrf_token": "x"})
    assert response.status_code == 303
    assert _rows(server, InstallToken) == []
    await server.login()
    for path in ("/clients/install/web", "/clients/install/remote", "/logs/connection"):
        page = await server.client.get(path)
        assert page.status_code == 200, path
        assert 'aria-current="page"' in page.text


async def test_client_update_messages_read_in_the_readers_language(
    servers: ServerFactory, desk: Desk
) -> None:
    """A client reports a code and parameters; the page renders them in the reader's
    language. A row from an older client (text only) stays readable as written."""
    server = await _server(servers, desk)
    await server.login()
    enrolled = (await _enroll(server, "autopcc", hostname="pc-ja")).json()
    coded = {
        "result": "success",
        "versions": {"virus_pattern": 2, "scan_engine": 1},
        "message": "ウイルスパターンファイル 1 → 2, スキャンエンジン 1（新規）",
        "message_code": "components_updated",
        "message_params": {"virus_pattern": 1, "scan_engine": None},
    }
    refused = {
        "result": "refused",
        "versions": {},
        "message": "ライセンスの有効期限が切れています。",
        "message_code": "license_expired",
    }
    old = {"result": "failed", "versions": {}, "message": "古いクライアントのメッセージ"}
    async with _agent(server, enrolled["client_token"]) as agent:
        for body in (old, coded, refused):
            response = await agent.post("/api/v1/agent/update-result", json=body)
            assert response.status_code == 204, response.text
        unknown = {**coded, "message_params": {"not_a_component": 1}}
        assert (await agent.post("/api/v1/agent/update-result", json=unknown)).status_code == 422
    english = _text(
        (await server.client.get("/logs/updates/client", headers={"Accept-Language": "en"})).text
    )
    assert "Updated: virus pattern file 1 → 2, scan engine 1 (new)" in english
    assert "because the license has expired" in english
    assert "古いクライアントのメッセージ" in english
    assert "ウイルスパターンファイル" not in english
    japanese = _text((await server.client.get("/logs/updates/client")).text)
    assert "更新しました: ウイルスパターンファイル 1 → 2、検索エンジン 1（新規）" in japanese
    assert "ライセンスの有効期限が切れているため" in japanese
    csv_en = (
        await server.client.get("/logs/updates/client.csv", headers={"Accept-Language": "en"})
    ).content.decode("utf-8-sig")
    assert "Updated: virus pattern file 1 → 2, scan engine 1 (new)" in csv_en
