"""The client list reads at a glance (issue 23, finding 10): the real-time column shows one
state (not オン beside 停止中), 削除 sits in its own actions column (not under Damage
Cleanup), and one client is "1 client"."""

from __future__ import annotations

import re

from tests.helpers.protection import setup
from tests.helpers.server import Desk, ServerFactory


def _cells(html: str, header: str) -> tuple[list[str], list[str]]:
    """The table's headings, and the cells of its first row."""
    table = html[html.index('data-testid="clients"') :]
    heads = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th>(.*?)</th>", table)]
    row = table[table.index("<tr data-client=") :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    assert header in heads, heads
    return heads, cells


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_one_real_time_state_and_remove_in_its_own_column(
    servers: ServerFactory, desk: Desk
) -> None:
    s = await setup(servers, desk)
    status = {"state": "online", "realtime_scan_running": False}
    await s.heartbeat(status)
    page = (await s.server.client.get("/clients")).text
    heads, cells = _cells(page, "操作")
    assert len(heads) == len(cells) == 8, (heads, cells)
    realtime = _text(cells[heads.index("リアルタイム検索")])
    assert realtime.startswith("要確認: PCで実行されていません"), realtime
    assert "オン" not in realtime.replace("オンに", "")
    cleanup = cells[heads.index("ウイルス感染復旧サービス")]
    assert "client-remove" not in cleanup
    assert "client-remove" in cells[heads.index("操作")]

    await s.heartbeat({"state": "online", "realtime_scan_running": True})
    heads, cells = _cells((await s.server.client.get("/clients")).text, "操作")
    realtime = _text(cells[heads.index("リアルタイム検索")])
    assert realtime.startswith("オン（実行中）"), realtime
    assert "停止中" not in realtime

    english = (await s.server.client.get("/clients", headers={"Accept-Language": "en"})).text
    assert "(1 clients)" not in english
    assert "(クライアント 1 台)" in page or "(1 client)" in english
