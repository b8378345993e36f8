"""Seat accounting end to end: 30 clients on a 25-seat contract are flagged on the Web
manager pages, in the API, once in the system event log, and at the vendor's support
console (the count travels with the status check); client install keeps working over the
seats; removing clients (confirmation + CSRF, logs kept) brings the usage back under, and
clients not seen for the window stop counting by themselves."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from tests.helpers.protection import enroll, text_of
from tests.helpers.server import PASSWORD, Desk, Server, ServerFactory, csrf_of
from tests.helpers.webhook_receiver import Receiver, verify_at_fake_time, webhook_receiver

from cssec.core.clock import FakeClock
from cssec.server.models import Client, ConnectionLogEntry
from cssec.vendor_service import services
from cssec.vendor_service.models import StatusCheck, User
from cssec.vendor_service.scheduler import run_scheduled_work
from cssec.web.security import hash_password

SEATS = 25  # Desk.contract()
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Receiver]:
    """A real HTTP receiver verifying signatures (at the fake clock's time)."""
    verify_at_fake_time(monkeypatch, clock)
    with webhook_receiver() as found:
        found.secret = SECRET
        yield found


def _seats_webhooks(vendor_app: FastAPI, receiver: Receiver) -> list[dict[str, Any]]:
    """Write the status-check history, deliver the outbox, and return every seats.exceeded
    the receiver verified."""
    vendor = vendor_app.state.vendor
    vendor.status_log.flush()
    run_scheduled_work(vendor)
    posts = receiver.received()
    assert all(p.error is None for p in posts), [p.error for p in posts]
    return [p.verified for p in posts if p.verified["type"] == "seats.exceeded"]


async def _server(servers: ServerFactory, desk: Desk) -> Server:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    server = servers.open(settings.model_copy(update={"enroll_rate_limit": "1000/minute"}))
    await server.login()
    return server


async def _enroll_many(server: Server, count: int, start: int = 1) -> list[str]:
    return [(await enroll(server, f"pc-{n:02d}"))[1] for n in range(start, start + count)]


def _client_ids(server: Server) -> dict[str, int]:
    with server.app.state.server.sessionmaker() as session:
        return {c.hostname: c.id for c in session.scalars(select(Client))}


async def _licenses(server: Server) -> list[dict[str, Any]]:
    response = await server.api("GET", "/api/v1/licenses")
    assert response.status_code == 200
    body: list[dict[str, Any]] = response.json()
    return body


async def _remove(server: Server, client_id: int) -> httpx.Response:
    page = await server.client.get(f"/clients/{client_id}/remove")
    assert page.status_code == 200
    assert "ウイルスログと接続状態の確認ログの記録は残ります" in text_of(page.text)
    return await server.client.post(
        f"/clients/{client_id}/remove", data={"csrf_token": csrf_of(page.text)}
    )


async def _console(vendor_app: FastAPI, clock: FakeClock) -> httpx.AsyncClient:
    with vendor_app.state.vendor.session() as session:
        session.add(
            User(
                name="desk",
                password_hash=hash_password(PASSWORD),
                role="staff",
                failed_logins=0,
                created_at=clock.now(),
            )
        )
        session.commit()
    console = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=vendor_app), base_url="http://vendor.test"
    )
    page = await console.get("/console/login")
    response = await console.post(
        "/console/login",
        data={"username": "desk", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code in (200, 303), response.text
    return console


async def test_thirty_clients_on_twenty_five_seats(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    vendor_app: FastAPI,
    receiver: Receiver,
) -> None:
    with vendor_app.state.vendor.session() as session:
        services.add_webhook_endpoint(
            session, url=receiver.url, secret=SECRET, events=["seats.exceeded"], actor="t"
        )
    server = await _server(servers, desk)
    await _enroll_many(server, SEATS)
    [cs] = await _licenses(server)
    assert (cs["seats"], cs["seats_used"]) == (SEATS, SEATS)
    assert server.events("seats.exceeded") == []
    page = await server.client.get("/admin/licenses")
    assert 'data-banner="seats"' not in page.text

    # Install keeps working over the seats: every one of the five extra clients is accepted.
    await _enroll_many(server, 5, start=SEATS + 1)
    [cs] = await _licenses(server)
    assert (cs["seats"], cs["seats_used"]) == (SEATS, 30)

    page = await server.client.get("/admin/licenses")
    text = text_of(page.text)
    assert re.search(
        r'data-field="seats_used">30</span> / <span data-field="seats_total">25', page.text
    )
    assert 'data-seats="over"' in page.text
    assert "使用数にかかわらずクライアントのインストールは引き続き可能です" in text
    for path in ("/dashboard", "/clients", "/logs/system-events", "/admin/mail"):
        other = await server.client.get(path)
        assert 'data-banner="seats"' in other.text, path
        assert "使用数 (30)がライセンス数 (25)を超えています" in text_of(other.text), path
    dashboard = await server.client.get("/dashboard")
    assert "30 / 25" in text_of(dashboard.text)
    assert 'data-seats="over"' in dashboard.text

    # One event for the crossing, not one per request or per extra client.
    [event] = server.events("seats.exceeded")
    assert event.details == {"product": "CS", "seats": SEATS, "used": 26}
    await server.scheduler.run_notices()
    assert len(server.events("seats.exceeded")) == 1

    # The count reaches the vendor with the status check; the console shows it.
    assert (await server.check_form()).status_code == 303
    vendor = vendor_app.state.vendor
    vendor.status_log.flush()
    with vendor.session() as session:
        latest = session.scalars(select(StatusCheck).order_by(StatusCheck.id.desc())).first()
        assert latest is not None
        assert latest.seats_used == 30
    # The crossing reaches the customer's systems: seats.exceeded, signed and verified.
    [hook] = _seats_webhooks(vendor_app, receiver)
    assert hook["data"]["seats"] == SEATS
    assert hook["data"]["seats_used"] == 30
    assert hook["data"]["server_id"] == latest.server_id
    clock.advance(timedelta(days=1))
    assert (await server.check_form()).status_code == 303
    assert len(_seats_webhooks(vendor_app, receiver)) == 1, "once per crossing"
    console = await _console(vendor_app, clock)
    try:
        over = await console.get("/console/seat-usage")
        assert over.status_code == 200
        assert 'data-testid="over-seats"' in over.text
        assert re.search(r'data-field="seats-used"><strong>30</strong>', over.text)
        contract_id = int(re.findall(r'data-contract="(\d+)"', over.text)[0])
        contract_page = await console.get(f"/console/contracts/{contract_id}")
        assert 'data-testid="seat-usage"' in contract_page.text
        assert re.search(r'data-field="seats-used">30 ', contract_page.text)

        # Removing five clients brings the usage back under (logs stay).
        ids = _client_ids(server)
        for name in ("pc-26", "pc-27", "pc-28", "pc-29", "pc-30"):
            response = await _remove(server, ids[name])
            assert response.status_code == 303
        [cs] = await _licenses(server)
        assert cs["seats_used"] == SEATS
        page = await server.client.get("/admin/licenses")
        assert 'data-banner="seats"' not in page.text
        assert 'data-seats="over"' not in page.text
        [within] = server.events("seats.within")
        assert within.details["used"] == SEATS
        assert len(server.events("client.removed")) == 5
        with server.app.state.server.sessionmaker() as session:
            kept = session.scalars(
                select(ConnectionLogEntry).where(ConnectionLogEntry.hostname == "pc-30")
            ).all()
            assert kept, "the removed client's log rows stay"
            assert all(row.client_id is None for row in kept)

        assert (await server.check_form()).status_code == 303
        over = await console.get("/console/seat-usage")
        assert 'data-testid="over-seats"' not in over.text
        assert "最新の使用数が席数を超えている契約はありません" in text_of(over.text)

        # Back under, then over again: a new crossing, a new webhook.
        await _enroll_many(server, 1, start=40)
        assert (await server.check_form()).status_code == 303
        again = _seats_webhooks(vendor_app, receiver)
        assert [h["data"]["seats_used"] for h in again] == [30, SEATS + 1]
    finally:
        await console.aclose()


async def test_removal_needs_the_csrf_token_and_the_client_can_reinstall(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await _server(servers, desk)
    await _enroll_many(server, 1)
    client_id = _client_ids(server)["pc-01"]
    forged = await server.client.post(f"/clients/{client_id}/remove", data={"csrf_token": "x"})
    assert forged.status_code == 303
    assert _client_ids(server) == {"pc-01": client_id}
    assert (await _remove(server, client_id)).status_code == 303
    assert _client_ids(server) == {}
    again = await server.client.get(f"/clients/{client_id}/remove")
    assert again.status_code == 303, "gone: back to the list with a message"
    await _enroll_many(server, 1)
    assert list(_client_ids(server)) == ["pc-01"]


async def test_clients_not_seen_for_the_window_stop_counting(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk)
    await _enroll_many(server, 26)
    assert len(server.events("seats.exceeded")) == 1
    clock.advance(timedelta(days=20))
    await _enroll_many(server, 1, start=27)
    [cs] = await _licenses(server)
    assert cs["seats_used"] == 27
    clock.advance(timedelta(days=11))  # the first 26 are 31 days old now
    [cs] = await _licenses(server)
    assert cs["seats_used"] == 1
    await server.scheduler.run_notices()
    assert len(server.events("seats.within")) == 1
    await server.scheduler.run_notices()
    assert len(server.events("seats.within")) == 1, "once per crossing"
