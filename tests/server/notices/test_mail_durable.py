"""Durable mail to the administrator: with the SMTP server down, a notice waits and is
retried on its back-off, across a restart of the server, and arrives once when the SMTP
server is back; a sender stopped mid-send is replaced once its lease ends; after the last
retry the notice is given up, and saving the settings tries it again. The mail settings
page and the system events say where each notice stands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.helpers.protection import enroll, text_of
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of
from tests.helpers.smtp_sink import free_port, smtp_sink

from cssec.core.clock import FakeClock
from cssec.server.models import MailNotice
from cssec.server.notices.service import BACKOFF, LEASE, claim_due


async def _configure(server: Server, port: int) -> None:
    page = await server.client.get("/admin/mail")
    form = {
        "csrf_token": csrf_of(page.text),
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "security": "none",
        "sender": "cssec-server@example.jp",
        "recipients": "admin@example.jp",
        "failure_threshold": "3",
    }
    assert (await server.client.post("/admin/mail", data=form)).status_code == 303


async def _open(servers: ServerFactory, server: Server) -> Server:
    """The same server, restarted: a new app and database engine on the same data."""
    await server.client.aclose()
    server.app.state.server.engine.dispose()
    again = servers.open(server.settings)
    await again.login()
    return again


def _notices(server: Server) -> list[tuple[str, str, int]]:
    with server.app.state.server.sessionmaker() as session:
        rows = session.scalars(select(MailNotice).order_by(MailNotice.id))
        return [(n.kind, n.status, n.attempts) for n in rows]


async def _seats_over(servers: ServerFactory, desk: Desk, port: int) -> Server:
    contract = desk.contract()
    settings = await servers.install(activation_code=contract.codes["CS"])
    server = servers.open(settings.model_copy(update={"enroll_rate_limit": "1000/minute"}))
    await server.login()
    await _configure(server, port)
    for n in range(26):
        await enroll(server, f"pc-{n:02d}")  # the 26th raises the seats notice
    return server


async def test_a_notice_waits_for_the_smtp_server_across_a_restart(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    port = free_port()  # nobody listening: the SMTP server is down
    server = await _seats_over(servers, desk, port)
    assert _notices(server) == [("seats.exceeded", "pending", 1)]
    [failed] = server.events("mail.send_failed")
    assert failed.details["retry_at"] == (clock.now() + BACKOFF[0]).isoformat()
    assert "に再送します" in failed.message_ja
    page = text_of((await server.client.get("/admin/mail")).text)
    assert "1件のお知らせをまだ送信できていません" in page
    assert "再送待ち" in page

    server = await _open(servers, server)  # restarted while the SMTP server is down
    clock.advance(BACKOFF[0] - timedelta(seconds=1))
    await server.scheduler.run_notices()
    assert _notices(server) == [("seats.exceeded", "pending", 1)], "not due yet"
    with smtp_sink(port=port) as inbox:  # the SMTP server is back
        clock.advance(timedelta(seconds=1))
        await server.scheduler.run_notices()
        await server.scheduler.run_notices()
        [mail] = inbox.received()
    assert "使用数がライセンス数を超えています" in str(mail["Subject"])
    assert _notices(server) == [("seats.exceeded", "sent", 2)]
    page = text_of((await server.client.get("/admin/mail")).text)
    assert "送信済み" in page
    assert "まだ送信できていません" not in page


async def test_a_sender_stopped_mid_send_is_replaced_after_its_lease(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    port = free_port()
    server = await _seats_over(servers, desk, port)
    clock.advance(BACKOFF[0])
    with server.app.state.server.sessionmaker() as session:
        claimed, _unsent = claim_due(session, now=clock.now())
        session.commit()  # claimed, then the process dies before sending
    assert len(claimed) == 1
    server = await _open(servers, server)
    with smtp_sink(port=port) as inbox:
        await server.scheduler.run_notices()
        assert inbox.received() == [], "still leased to the dead sender"
        clock.advance(LEASE + timedelta(seconds=1))
        await server.scheduler.run_notices()
        assert len(inbox.received()) == 1
    assert _notices(server) == [("seats.exceeded", "sent", 2)]


async def test_given_up_after_the_last_retry_then_saving_the_settings_retries(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    port = free_port()
    server = await _seats_over(servers, desk, port)
    started = clock.now()
    for wait in BACKOFF:
        clock.advance(wait)
        await server.scheduler.run_notices()
    assert clock.now() - started > timedelta(days=1)
    assert _notices(server) == [("seats.exceeded", "failed", len(BACKOFF) + 1)]
    last = server.events("mail.send_failed")[-1]
    assert last.details["retry_at"] is None
    assert f"{len(BACKOFF) + 1}回失敗したため" in last.message_ja
    clock.advance(timedelta(days=3))
    await server.scheduler.run_notices()
    assert len(server.events("mail.send_failed")) == len(BACKOFF) + 1, "given up"
    page = text_of((await server.client.get("/admin/mail")).text)
    assert "送信失敗（再送終了）" in page
    with smtp_sink() as inbox:
        await _configure(server, inbox.port)  # the administrator fixes the settings
        [mail] = inbox.received()
    assert "使用数がライセンス数を超えています" in str(mail["Subject"])
    assert _notices(server) == [("seats.exceeded", "sent", len(BACKOFF) + 2)]
