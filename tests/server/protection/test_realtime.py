"""The real-time scan switch: per client from the client list, a default for new clients,
answered in the heartbeat; it keeps working in every license state."""

from __future__ import annotations

import pytest
from tests.helpers.protection import STATES, enroll, move_to_state, setup, text_of
from tests.helpers.server import Desk, ServerFactory

from cssec.core.clock import FakeClock


@pytest.mark.parametrize("state", STATES)
async def test_switch_per_client_and_default_in_every_state(
    servers: ServerFactory, desk: Desk, clock: FakeClock, state: str
) -> None:
    s = await setup(servers, desk)
    move_to_state(s.server, clock, state)
    licenses = await s.server.api("GET", "/api/v1/licenses")
    assert {x["product"]: x["status"] for x in licenses.json()}["CS"] == state

    beat = await s.heartbeat()
    # The license as the server sees it, for the client's `status`, in every state.
    assert beat.pop("license")["state"] == state
    assert beat == {
        "realtime_scan": True,
        "realtime_folders": None,
        "outbreak_policy": None,
        "cleanup_requests": [],
    }
    cid = s.client_id()
    # The one-click switch in the client list.
    off = await s.post_form(f"/clients/{cid}/realtime", {"on": "0", "keep_folders": "1"})
    assert off.status_code == 303
    assert (await s.heartbeat())["realtime_scan"] is False
    listing = await s.server.client.get("/clients")
    assert 'data-realtime="off"' in listing.text
    assert "オフにしました" in text_of(listing.text)  # the flash
    # The per-client settings page: on, with folders.
    saved = await s.post_form(
        f"/clients/{cid}/realtime",
        {"on": "1", "folders": "/srv/share\n\n/home/users\n/srv/share"},
        page=f"/clients/{cid}/realtime",
    )
    assert saved.status_code == 303
    beat = await s.heartbeat()
    assert beat["realtime_scan"] is True
    assert beat["realtime_folders"] == ["/srv/share", "/home/users"]

    # A client installed before the default changes keeps the old default.
    early_token, _ = await enroll(s.server, "pc-early")
    default = await s.post_form("/clients/realtime-default", {"on": "0", "folders": "/data"})
    assert default.status_code == 303
    late_token, _ = await enroll(s.server, "pc-late")
    assert (await s.heartbeat(token=early_token))["realtime_scan"] is True
    late = await s.heartbeat(token=late_token)
    del late["license"]
    assert late == {
        "realtime_scan": False,
        "realtime_folders": ["/data"],
        "outbreak_policy": None,
        "cleanup_requests": [],
    }
    assert (await s.heartbeat())["realtime_folders"] == ["/srv/share", "/home/users"]
    kinds = [e.kind for e in s.server.events() if e.kind.startswith("realtime.")]
    assert kinds == ["realtime.client_set", "realtime.client_set", "realtime.default_set"]


async def test_heartbeat_takes_the_status_object_and_shows_what_runs(
    servers: ServerFactory, desk: Desk
) -> None:
    s = await setup(servers, desk)
    status = {
        "agent_version": "0.2.0",
        "realtime_scan_running": True,
        "outbreak_policy_id": None,
        "outbreak_policy_applied": False,
    }
    assert (await s.heartbeat(status))["realtime_scan"] is True
    page = await s.server.client.get(f"/clients/{s.client_id()}/realtime")
    assert page.status_code == 200
    assert 'data-testid="realtime-running">実行中' in page.text
    listing = text_of((await s.server.client.get("/clients")).text)
    assert "実行中" in listing
    assert "online" in listing or "オンライン" in listing
    await s.heartbeat({"realtime_scan_running": False, "state": "busy"})
    page = await s.server.client.get(f"/clients/{s.client_id()}/realtime")
    assert 'data-testid="realtime-running">停止中' in page.text


async def test_bad_folders_and_unknown_clients_are_refused_with_a_reason(
    servers: ServerFactory, desk: Desk
) -> None:
    s = await setup(servers, desk)
    cid = s.client_id()
    bad = await s.post_form(
        f"/clients/{cid}/realtime",
        {"on": "1", "folders": "/a\tb"},
        page=f"/clients/{cid}/realtime",
    )
    assert bad.status_code == 303
    page = text_of((await s.server.client.get(bad.headers["location"])).text)
    assert "リアルタイム検索の対象フォルダに誤りがあります" in page
    missing = await s.post_form("/clients/999/realtime", {"on": "0", "keep_folders": "1"})
    assert missing.status_code == 303
    assert "クライアント 999が見つかりません" in text_of(
        (await s.server.client.get("/clients")).text
    )
    forged = await s.server.client.post(
        f"/clients/{cid}/realtime", data={"on": "0", "csrf_token": "x"}
    )
    assert forged.status_code == 303
    assert (await s.heartbeat())["realtime_scan"] is True
    async with s.agent() as outsider:  # a client token is no Web manager login
        refused = await outsider.post(f"/clients/{cid}/realtime", data={"on": "0"})
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/login")
