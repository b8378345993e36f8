"""Outbreak prevention (大規模感染予防): set a policy on the Web manager page, deploy it to all
or selected clients, release it; the heartbeat carries it, clients report applied/released,
the page shows each client's state, and every action is a system event. Works in every
license state."""

from __future__ import annotations

from typing import Any

import pytest
from tests.helpers.protection import STATES, Setup, enroll, move_to_state, setup, text_of
from tests.helpers.server import Desk, ServerFactory

from cssec.core.clock import FakeClock

PAGE = "/outbreak/prevention"
APPLIED = "/api/v1/agent/outbreak-policy/applied"


async def _post(s: Setup, path: str, data: dict[str, Any]) -> str:
    response = await s.post_form(PAGE + path, data, page=PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    return text_of((await s.server.client.get(PAGE)).text)


async def _policy(s: Setup) -> str:
    return await _post(
        s,
        "/policy",
        {
            "deny_write_shares": "\\\\fs01\\share\n/srv/share",
            "block_ports": "445, 139 3389 445",
            "deny_files": "*.exe\n/tmp/evil.bin",
        },
    )


async def _applied(s: Setup, token: str | None = None, **body: Any) -> Any:
    async with s.agent(token) as agent:
        return await agent.post(APPLIED, json={"detail": "", **body})


@pytest.mark.parametrize("state", STATES)
async def test_set_deploy_apply_release_in_every_state(
    servers: ServerFactory, desk: Desk, clock: FakeClock, state: str
) -> None:
    s = await setup(servers, desk)
    other_token, _ = await enroll(s.server, "pc-02")
    move_to_state(s.server, clock, state)
    page = await s.server.client.get(PAGE)
    assert page.status_code == 200
    assert 'data-testid="no-policy"' in page.text
    assert "大規模感染予防" in text_of(page.text)

    shown = await _policy(s)
    assert "大規模感染予防ポリシー #1を保存しました" in shown
    assert "139, 445, 3389" in shown
    assert (await s.heartbeat())["outbreak_policy"] is None, "saved is not deployed"

    shown = await _post(s, "/deploy", {"scope": "all"})
    assert "2 台のクライアントに配信しました" in shown
    policy = (await s.heartbeat())["outbreak_policy"]
    assert policy["id"] == 1
    assert policy["action"] == "deploy"
    assert policy["deny_write_shares"] == ["\\\\fs01\\share", "/srv/share"]
    assert policy["block_ports"] == [139, 445, 3389]
    assert policy["deny_files"] == ["*.exe", "/tmp/evil.bin"]
    assert policy["issued_at"].endswith("Z")
    assert (await _applied(s, policy_id=1, action="deploy", applied=True)).status_code == 204
    failed = await _applied(
        s, other_token, policy_id=1, action="deploy", applied=False, detail="no firewall"
    )
    assert failed.status_code == 204
    page = await s.server.client.get(PAGE)
    assert 'data-outbreak-state="deployed"' in page.text
    assert 'data-outbreak-state="deploy_failed"' in page.text
    assert "no firewall" in page.text
    # Still answered after applying: a client that lost its state applies it again.
    assert (await s.heartbeat())["outbreak_policy"]["action"] == "deploy"

    shown = await _post(s, "/release", {"scope": "selected", "client_ids": [s.client_id()]})
    assert "1 台のクライアントで大規模感染予防を解除しました" in shown
    released = (await s.heartbeat())["outbreak_policy"]
    assert released["action"] == "release"
    assert released["id"] == 1
    assert (await s.heartbeat(token=other_token))["outbreak_policy"]["action"] == "deploy"
    assert (await _applied(s, policy_id=1, action="release", applied=True)).status_code == 204
    assert (await s.heartbeat())["outbreak_policy"] is None
    assert 'data-outbreak-state="released"' in (await s.server.client.get(PAGE)).text
    kinds = [e.kind for e in s.server.events() if e.kind.startswith("outbreak_prevention.")]
    assert kinds == [
        "outbreak_prevention.set",
        "outbreak_prevention.deployed",
        "outbreak_prevention.deploy_applied",
        "outbreak_prevention.deploy_failed",
        "outbreak_prevention.released",
        "outbreak_prevention.release_applied",
    ]


async def test_deploy_to_selected_clients_only(servers: ServerFactory, desk: Desk) -> None:
    s = await setup(servers, desk)
    other_token, _ = await enroll(s.server, "pc-02")
    await _policy(s)
    shown = await _post(s, "/deploy", {"scope": "selected", "client_ids": [s.client_id()]})
    assert "1 台のクライアントに配信しました" in shown
    assert (await s.heartbeat())["outbreak_policy"]["action"] == "deploy"
    assert (await s.heartbeat(token=other_token))["outbreak_policy"] is None
    none_chosen = await _post(s, "/deploy", {"scope": "selected"})
    assert "対象のクライアントがありません" in none_chosen
    # A new policy is a new id; deploying it replaces what the client holds.
    await _post(s, "/policy", {"block_ports": "25"})
    await _post(s, "/deploy", {"scope": "all"})
    assert (await s.heartbeat())["outbreak_policy"]["id"] == 2
    assert (await s.heartbeat(token=other_token))["outbreak_policy"]["block_ports"] == [25]


async def test_refusals_say_what_to_do(servers: ServerFactory, desk: Desk) -> None:
    s = await setup(servers, desk)
    shown = await _post(s, "/deploy", {"scope": "all"})
    assert "大規模感染予防ポリシーがまだ設定されていません" in shown
    shown = await _post(s, "/release", {"scope": "all"})
    assert "解除する大規模感染予防ポリシーがありません" in shown
    shown = await _post(s, "/policy", {"block_ports": "70000"})
    assert "ポート番号は 1～65535の整数で指定してください (70000)" in shown
    shown = await _post(s, "/policy", {"block_ports": "", "deny_files": "  "})
    assert "いずれかを指定してください" in shown
    assert 'data-testid="no-policy"' in (await s.server.client.get(PAGE)).text
    await _policy(s)
    await _post(s, "/deploy", {"scope": "all"})
    mismatch = await _applied(s, policy_id=1, action="release", applied=True)
    assert mismatch.status_code == 409
    assert mismatch.json()["code"] == "outbreak_policy_mismatch"
    wrong = await _applied(s, policy_id=99, action="deploy", applied=True)
    assert wrong.status_code == 409
    invalid = await _applied(s, policy_id=1, action="pause", applied=True)
    assert invalid.status_code == 422
    forged = await s.server.client.post(PAGE + "/release", data={"scope": "all", "csrf_token": "x"})
    assert forged.status_code == 303
    assert (await s.heartbeat())["outbreak_policy"]["action"] == "deploy"
    nav = await s.server.client.get("/dashboard")
    assert 'href="/outbreak/prevention"' in nav.text
