"""Log management on the real server: retention per log, manual and daily automatic purge
(fake clock), a system event with the counts, CSV export of every log page (BOM, filters,
formula-safe cells), all in every license state."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.helpers.server import Desk, Server, ServerFactory

from cssec.core.clock import FakeClock
from cssec.core.license import grace_end
from cssec.server.logs.export import safe_cell
from cssec.server.models import ConnectionLogEntry, SystemEvent, VirusLogEntry

ENROLL = "/api/v1/agent/enroll"


async def _server(servers: ServerFactory, desk: Desk) -> Server:
    server = servers.open(await servers.install(activation_code=desk.contract().codes["CS"]))
    await server.login()
    return server


async def _agent(server: Server, hostname: str) -> httpx.AsyncClient:
    body = {"route": "autopcc", "hostname": hostname, "os": "Linux", "agent_version": "0.1"}
    enrolled = await server.client.post(ENROLL, json=body)
    assert enrolled.status_code == 200
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app, client=("127.0.0.1", 1)),
        base_url="http://server.test",
        headers={"Authorization": f"Bearer {enrolled.json()['client_token']}"},
    )


async def _detect(agent: httpx.AsyncClient, *paths: str, threat: str = "Eicar_test_file") -> None:
    detections = [{"path": p, "threat": threat} for p in paths]
    response = await agent.post(
        "/api/v1/agent/virus-log", json={"scan_type": "scan_now", "detections": detections}
    )
    assert response.status_code == 204


def _count(server: Server, model: type) -> int:
    with server.app.state.server.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def _save(server: Server, **days: str) -> httpx.Response:
    form = {"virus": "0", "update": "0", "system_event": "0", "connection": "0", **days}
    form["csrf_token"] = await server.csrf("/admin/log-management")
    return await server.client.post("/admin/log-management", data=form)


async def _purge(server: Server, **form: str) -> httpx.Response:
    form["csrf_token"] = await server.csrf("/admin/log-management")
    return await server.client.post("/admin/log-management/purge", data=form)


def _rows(response: httpx.Response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_retention_and_manual_purge(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk)
    async with await _agent(server, "pc-a") as agent:
        await _detect(agent, "/old/1", "/old/2")
        clock.advance(timedelta(days=10))
        await _detect(agent, "/new/1")
    assert (await _save(server, virus="7", connection="abc")).status_code == 303
    page = await server.client.get("/admin/log-management")
    assert "保存できませんでした" in page.text
    assert (await _save(server, virus="7", connection="5000")).status_code == 303
    assert "0〜3650" in (await server.client.get("/admin/log-management")).text
    assert (await _save(server, virus="7")).status_code == 303
    page = await server.client.get("/admin/log-management")
    assert "ログの保存期間を保存しました" in page.text
    assert 'id="days-virus" name="virus" type="number" min="0" max="3650" value="7"' in page.text
    changed = server.events("logs.settings_changed")
    assert len(changed) == 1
    assert "ウイルスログ: 7 日" in changed[0].message_ja
    assert "System event log: forever" in changed[0].message_en
    # Without the confirmation nothing is deleted.
    await _purge(server)
    assert _count(server, VirusLogEntry) == 3
    assert "チェックを入れて" in (await server.client.get("/admin/log-management")).text
    await _purge(server, confirm="1")
    assert _count(server, VirusLogEntry) == 1
    purged = server.events("logs.purged")
    assert purged[-1].details["counts"] == {"virus": 2}
    assert "ウイルスログ 2 件" in purged[-1].message_ja
    assert "(manual, admin)" in purged[-1].message_en
    # An explicit age for one log: 0 deletes every entry of that log only.
    connections = _count(server, ConnectionLogEntry)
    assert connections > 0
    await _purge(server, confirm="1", log="connection", days="0")
    assert _count(server, ConnectionLogEntry) == 0
    assert server.events("logs.purged")[-1].details["counts"] == {"connection": connections}
    assert _count(server, VirusLogEntry) == 1
    assert "合計" in (await server.client.get("/admin/log-management")).text


async def test_daily_automatic_purge_runs_once_a_local_day(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk)
    maintenance = server.app.state.log_maintenance
    assert maintenance.run_due() is None, "everything is kept forever by default"
    async with await _agent(server, "pc-a") as agent:
        await _detect(agent, "/a")
        clock.advance(timedelta(days=3))
        await _detect(agent, "/b")
    await _save(server, virus="2", system_event="1")
    result = maintenance.run_due()
    assert result is not None
    assert result.counts["virus"] == 1
    assert result.counts["system_event"] >= 1
    assert maintenance.run_due() is None, "once a day"
    clock.advance(timedelta(hours=8))  # 12:00 → 20:00 in Tokyo: the same local day
    assert maintenance.run_due() is None
    clock.advance(timedelta(hours=4))  # past midnight in Tokyo
    again = maintenance.run_due()
    assert again is not None
    assert again.counts["virus"] == 0
    events = server.events("logs.purged")
    assert [e.details["trigger"] for e in events] == ["schedule", "schedule"]
    assert "自動 (毎日)" in events[0].message_ja
    # The purge never removes its own record.
    with server.app.state.server.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(SystemEvent)) >= 2
    page = await server.client.get("/admin/log-management")
    assert (clock.now() + timedelta(hours=9)).date().isoformat() in page.text


async def test_csv_export_of_every_log_page(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    async with await _agent(server, "pc-a") as a, await _agent(server, "pc-b") as b:
        await _detect(a, '=HYPERLINK("http://evil")', "/srv/ファイル.txt")
        await _detect(b, "/home/b/x", threat="Spyware_Test_File")
        result = {"result": "success", "versions": {"virus_pattern": 1}, "message": "ok"}
        assert (await a.post("/api/v1/agent/update-result", json=result)).status_code == 204
    page = await server.client.get("/logs/virus?host=pc-a")
    assert 'href="/logs/virus.csv?host=pc-a&amp;threat=&amp;scan_type="' in page.text
    exported = await server.client.get("/logs/virus.csv?host=pc-a&threat=&scan_type=")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"].startswith('attachment; filename="virus-log-')
    rows = _rows(exported)
    assert rows[0][:5] == [
        "日時",
        "ホスト名",
        "IP アドレス",
        "クライアント ID",
        "ウイルス/不正プログラム名",
    ]
    assert [r[5] for r in rows[1:]] == ["/srv/ファイル.txt", '\'=HYPERLINK("http://evil")']
    assert {r[1] for r in rows[1:]} == {"pc-a"}
    assert all(len(r[3]) == 36 for r in rows[1:]), "the client is named by its id"
    assert {r[6] for r in rows[1:]} == {"放置（通知のみ）"}, "values are labels, not codes"
    assert {r[7] for r in rows[1:]} == {"手動検索（ScanNow）"}
    english = await server.client.get("/logs/virus.csv", headers={"Accept-Language": "en"})
    assert _rows(english)[0][:5] == [
        "Date and time",
        "Host name",
        "IP address",
        "Client ID",
        "Threat",
    ]
    assert len(_rows(english)) == 4
    for path, testid_page in (
        ("/logs/virus.csv", "/logs/virus"),
        ("/logs/connection.csv?failures=", "/logs/connection"),
        ("/logs/system-events.csv?level=info", "/logs/system-events"),
        ("/logs/updates/server.csv", "/logs/updates/server"),
        ("/logs/updates/client.csv?host=pc-a", "/logs/updates/client"),
    ):
        for lang in ("ja", "en"):
            headers = {"Accept-Language": lang}
            page = (await server.client.get(testid_page, headers=headers)).text
            assert 'data-testid="csv-export"' in page
            response = await server.client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert len(_rows(response)) >= 2, path
            # Every column header of the page is a header of its CSV, word for word.
            shown = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th>(.*?)</th>", page)]
            assert shown, testid_page
            assert set(shown) <= set(_rows(response)[0]), (path, lang, shown)
    client_log = _rows(await server.client.get("/logs/updates/client.csv?host=pc-a"))
    assert client_log[1][1] == "pc-a"
    assert client_log[1][3] == "成功"
    assert client_log[1][4] == "ウイルスパターンファイル 1"
    connections = _rows(await server.client.get("/logs/connection.csv"))
    assert {r[3] for r in connections[1:]} >= {"ウイルスログの送信", "アップデート結果の報告"}
    assert {r[4] for r in connections[1:]} == {"成功"}
    # The export needs a login like the page.
    server.client.cookies.clear()
    assert (await server.client.get("/logs/virus.csv")).status_code == 303


async def test_csv_streams_in_batches_without_repeats(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    async with await _agent(server, "pc-a") as agent:
        await _detect(agent, *[f"/f/{i}" for i in range(600)])
        await _detect(agent, *[f"/f/{i}" for i in range(600, 1201)])
    rows = _rows(await server.client.get("/logs/virus.csv"))
    paths = [r[5] for r in rows[1:]]
    assert len(paths) == 1201
    assert paths[0] == "/f/1200"
    assert len(set(paths)) == 1201


def test_formula_cells_are_neutralised() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("+81") == "'+81"
    assert safe_cell("@SUM") == "'@SUM"
    assert safe_cell(None) == ""
    assert safe_cell(3) == "3"
    assert safe_cell("/ok") == "/ok"


@pytest.mark.parametrize("state", ["grace_period", "expired"])
async def test_log_settings_and_purge_work_in_every_state(
    servers: ServerFactory, desk: Desk, clock: FakeClock, state: str
) -> None:
    server = await _server(servers, desk)
    slot = server.slot()
    day = slot.expires_on + timedelta(days=1)
    if state == "expired":
        day = grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1)
    clock.set(datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == state
    assert (await _save(server, connection="1")).status_code == 303
    assert "保存しました" in (await server.client.get("/admin/log-management")).text
    await _purge(server, confirm="1")
    assert server.events("logs.purged")
    assert (await server.client.get("/logs/system-events.csv")).status_code == 200
