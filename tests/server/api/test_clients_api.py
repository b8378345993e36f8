"""GET /api/v1/clients: each PC's component versions and last result, and the "outdated"
view an administrator opens to see which PCs are behind the server (issue 24), as JSON and
as the CSV a spreadsheet opens."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from tests.helpers.protection import Setup, enroll, setup
from tests.helpers.server import Desk, ServerFactory
from tests.helpers.updates import current_versions, publish_virus_pattern_v2

from cssec.core.clock import FakeClock
from cssec.server.updates.service import update_components


async def _report(s: Setup, token: str, result: str, versions: dict[str, int]) -> None:
    async with s.agent(token) as agent:
        response = await agent.post(
            "/api/v1/agent/update-result", json={"result": result, "versions": versions}
        )
    assert response.status_code == 204, response.text


async def _clients(s: Setup, query: str = "") -> dict[str, dict[str, Any]]:
    response = await s.server.api("GET", f"/api/v1/clients{query}")
    assert response.status_code == 200, response.text
    return {c["hostname"]: c for c in response.json()}


async def test_outdated_lists_only_pcs_behind_for_longer_than_the_threshold(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    s = await setup(servers, desk, hostname="pc-uptodate")
    lagging_token, _ = await enroll(s.server, "pc-lagging")
    silent_token, _ = await enroll(s.server, "pc-silent")
    v1 = {c.value: v for c, v in current_versions(s.server).items()}
    await _report(s, s.token, "success", v1)
    await _report(s, lagging_token, "success", v1)

    clients = await _clients(s)
    assert clients["pc-uptodate"]["versions"] == v1
    assert clients["pc-uptodate"]["behind"] == {}
    assert clients["pc-silent"]["versions"] == {}  # never reported: behind on everything
    assert set(clients["pc-silent"]["behind"]) == set(v1)

    publish_virus_pattern_v2(desk)
    env = s.server.app.state.server.license_env()
    outcome = await update_components(env, trigger="cli", actor="test")
    assert outcome.ok, outcome.message
    v2 = {c.value: v for c, v in current_versions(s.server).items()}
    assert v2["virus_pattern"] == v1["virus_pattern"] + 1
    await _report(s, s.token, "success", v2)
    await _report(s, lagging_token, "failed", {})  # a failure keeps its last good versions

    # Behind for one hour: within the default threshold (24 h), so nobody is flagged yet
    # except the PC that never reported since install.
    clock.advance(timedelta(hours=1))
    clients = await _clients(s)
    lagging = clients["pc-lagging"]
    assert lagging["versions"] == v1
    assert lagging["last_result"] == "failed"
    assert lagging["behind"] == {
        "virus_pattern": {"client": v1["virus_pattern"], "server": v2["virus_pattern"]}
    }
    assert not lagging["outdated"]
    assert set(await _clients(s, "?outdated=true&hours=24")) == set()

    clock.advance(timedelta(hours=24))
    outdated = await _clients(s, "?outdated=true")
    assert set(outdated) == {"pc-lagging", "pc-silent"}
    assert set(await _clients(s, "?outdated=true&hours=48")) == set()

    await _report(s, lagging_token, "success", v2)
    await _report(s, silent_token, "up_to_date", v2)
    assert set(await _clients(s, "?outdated=true")) == set()


async def test_outdated_csv_opens_in_a_spreadsheet_in_the_readers_language(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    s = await setup(servers, desk, hostname="=cmd|pc")  # a formula-looking host name
    clock.advance(timedelta(hours=30))
    response = await s.server.api("GET", "/api/v1/clients?outdated=true&format=csv", lang="ja")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "outdated-clients.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["ホスト名", "クライアントID"]
    assert "ウイルスパターンファイル" in rows[0]
    assert rows[1][0] == "'=cmd|pc"  # never a live formula
    assert rows[1][rows[0].index("ウイルスパターンファイル")].startswith("→ ")

    english = await s.server.api("GET", "/api/v1/clients?format=csv", lang="en")
    assert english.content.decode("utf-8").lstrip("\ufeff").startswith("Host name,Client ID")


async def test_the_clients_api_needs_the_administrator(servers: ServerFactory, desk: Desk) -> None:
    s = await setup(servers, desk)
    async with s.agent() as agent:  # a client's own token is not the administrator's
        response = await agent.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_the_client_list_shows_versions_and_filters_the_outdated(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    s = await setup(servers, desk, hostname="pc-fresh")
    await enroll(s.server, "pc-behind")
    v1 = {c.value: v for c, v in current_versions(s.server).items()}
    await _report(s, s.token, "success", v1)
    clock.advance(timedelta(hours=25))

    page = (await s.server.client.get("/clients")).text
    assert "pc-fresh" in page
    assert "pc-behind" in page
    assert f"ウイルスパターンファイル {v1['virus_pattern']}" in page
    assert "まだ報告" in page or "未報告" in page  # the PC that never reported says so
    outdated = (await s.server.client.get("/clients?outdated=true")).text
    assert "pc-behind" in outdated
    assert "pc-fresh" not in outdated
    assert "24時間以上遅れている" in outdated
