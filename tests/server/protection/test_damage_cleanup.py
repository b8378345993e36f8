"""Damage Cleanup Services: the administrator requests a cleanup on a client (button →
confirm → queued), the heartbeat delivers it, the client's result lands in the virus log
and finishes the request. Works in every license state and with an expired DCS slot;
refused with a clear reason when there is no DCS license at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from tests.helpers.protection import STATES, Setup, enroll, move_to_state, setup, text_of
from tests.helpers.server import Desk, ServerFactory

from cssec.core.clock import FakeClock
from cssec.server.models import CleanupRequest, LicenseSlot, VirusLogEntry

RESULT = "/api/v1/agent/cleanup-result"
SHA = "ab" * 32


def _results() -> list[dict[str, object]]:
    return [
        {
            "path": "/srv/share/eicar.com",
            "threat": "Eicar_test_file",
            "action": "quarantined",
            "sha256": SHA.upper(),
            "quarantine_id": "q-1",
            "detail": "",
        },
        {"path": "/tmp/x.exe", "threat": "TROJ_X", "action": "deleted", "detail": ""},
        {"path": "/tmp/y.doc", "threat": "TROJ_Y", "action": "reported", "detail": ""},
        {"path": "/tmp/z", "threat": "TROJ_Z", "action": "failed", "detail": "permission denied"},
    ]


def _requests(s: Setup) -> list[CleanupRequest]:
    with s.server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(CleanupRequest).order_by(CleanupRequest.id)))


def _virus_rows(s: Setup) -> list[VirusLogEntry]:
    with s.server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(VirusLogEntry).order_by(VirusLogEntry.id)))


async def _request(s: Setup, paths: str = "") -> None:
    cid = s.client_id()
    confirm = await s.server.client.get(f"/clients/{cid}/cleanup")
    assert confirm.status_code == 200
    assert "pc-01でウイルス感染復旧を実行しますか" in text_of(confirm.text)
    queued = await s.post_form(
        f"/clients/{cid}/cleanup", {"paths": paths}, page=f"/clients/{cid}/cleanup"
    )
    assert queued.status_code == 303


@pytest.mark.parametrize("state", STATES)
async def test_request_deliver_and_report_in_every_state(
    servers: ServerFactory, desk: Desk, clock: FakeClock, state: str
) -> None:
    s = await setup(servers, desk)
    move_to_state(s.server, clock, state)
    listing = await s.server.client.get("/clients")
    assert 'data-testid="cleanup-request"' in listing.text
    await _request(s, paths="/srv/share\n/tmp")
    listing = text_of((await s.server.client.get("/clients")).text)
    assert "ウイルス感染復旧の実行を依頼しました" in listing
    assert "依頼済み (未配信)" in listing

    beat = await s.heartbeat()
    [delivered] = beat["cleanup_requests"]
    assert delivered["paths"] == ["/srv/share", "/tmp"]
    assert delivered["requested_at"].endswith("Z")
    assert (await s.heartbeat())["cleanup_requests"] == [], "delivered once"
    clock.advance(timedelta(minutes=31))
    assert [r["id"] for r in (await s.heartbeat())["cleanup_requests"]] == [delivered["id"]]

    async with s.agent() as agent:
        posted = await agent.post(
            RESULT, json={"request_id": delivered["id"], "results": _results()}
        )
        assert posted.status_code == 204, posted.text
        again = await agent.post(
            RESULT, json={"request_id": delivered["id"], "results": _results()}
        )
        assert again.status_code == 204
    rows = _virus_rows(s)
    assert [(r.scan_type, r.threat, r.action) for r in rows] == [
        ("cleanup", "Eicar_test_file", "quarantine"),
        ("cleanup", "TROJ_X", "delete"),
        ("cleanup", "TROJ_Y", "report"),
        ("cleanup", "TROJ_Z", "failed"),
    ], "a retried post does not double the log"
    assert rows[0].sha256 == SHA
    [done] = _requests(s)
    assert done.status == "done"
    assert done.summary is not None
    assert done.summary["quarantined"] == 1
    assert done.summary["failures"] == [{"path": "/tmp/z", "detail": "permission denied"}]
    assert (await s.heartbeat())["cleanup_requests"] == []
    assert "完了" in text_of((await s.server.client.get("/clients")).text)
    virus = text_of((await s.server.client.get("/logs/virus?threat=eicar")).text)
    assert "/srv/share/eicar.com" in virus
    assert "隔離" in virus
    kinds = [e.kind for e in s.server.events() if e.kind.startswith("cleanup.")]
    assert kinds == ["cleanup.requested", "cleanup.completed"]
    [completed] = s.server.events("cleanup.completed")
    assert completed.level == "warning", "a failed item makes it a warning"
    assert "失敗 1" in completed.message_ja


async def test_a_result_without_a_request_still_lands_in_the_virus_log(
    servers: ServerFactory, desk: Desk
) -> None:
    s = await setup(servers, desk)
    async with s.agent() as agent:
        posted = await agent.post(RESULT, json={"request_id": None, "results": _results()[:1]})
        assert posted.status_code == 204
        bad = await agent.post(
            RESULT,
            json={"results": [{"path": "/a", "threat": "T", "action": "exploded"}]},
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "validation_error"
    assert len(_virus_rows(s)) == 1


async def test_no_dcs_license_is_refused_with_the_reason(
    servers: ServerFactory, desk: Desk
) -> None:
    s = await setup(servers, desk, with_dcs=False)
    cid = s.client_id()
    confirm = await s.server.client.get(f"/clients/{cid}/cleanup")
    assert confirm.status_code == 303
    listing = text_of((await s.server.client.get("/clients")).text)
    assert "ウイルス感染復旧サービス (Damage Cleanup Services)のライセンスがありません" in listing
    queued = await s.post_form(f"/clients/{cid}/cleanup", {"paths": ""})
    assert queued.status_code == 303
    assert _requests(s) == []
    async with s.agent() as agent:
        refused = await agent.post(
            RESULT, json={"results": _results()[:1]}, headers={"Accept-Language": "en"}
        )
    assert refused.status_code == 403
    assert refused.json()["code"] == "dcs_not_licensed"
    assert refused.json()["message"].startswith("Damage Cleanup Services is not licensed.")
    assert _virus_rows(s) == []


async def test_an_expired_dcs_slot_still_runs_cleanup(servers: ServerFactory, desk: Desk) -> None:
    s = await setup(servers, desk)
    with s.server.app.state.server.sessionmaker() as session:
        session.execute(
            update(LicenseSlot)
            .where(LicenseSlot.product == "DCS")
            .values(expires_on=date(2020, 1, 1), grace_days=0)
        )
        session.commit()
    licenses = await s.server.api("GET", "/api/v1/licenses")
    assert {x["product"]: x["status"] for x in licenses.json()}["DCS"] == "expired"
    await _request(s)
    [delivered] = (await s.heartbeat())["cleanup_requests"]
    assert delivered["paths"] is None
    async with s.agent() as agent:
        posted = await agent.post(RESULT, json={"request_id": delivered["id"], "results": []})
    assert posted.status_code == 204
    assert _requests(s)[0].status == "done"


async def test_a_request_of_another_client_is_refused(servers: ServerFactory, desk: Desk) -> None:
    s = await setup(servers, desk)
    other_token, _ = await enroll(s.server, "pc-02")
    await _request(s)
    [delivered] = (await s.heartbeat())["cleanup_requests"]
    assert (await s.heartbeat(token=other_token))["cleanup_requests"] == []
    async with s.agent(other_token) as agent:
        refused = await agent.post(RESULT, json={"request_id": delivered["id"], "results": []})
    assert refused.status_code == 404
    assert refused.json()["code"] == "cleanup_request_not_found"
    assert _requests(s)[0].status == "delivered"
