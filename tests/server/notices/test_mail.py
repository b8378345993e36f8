"""Mail to the administrator through a real SMTP server (aiosmtpd on a loopback port):
the settings page (password never shown back, test mail), the reminders as the fake clock
crosses 90/60/30/1/0 days, grace and expiry (each once, in the administrator's language),
online checks failing N times in a row, seats exceeded, and an SMTP server that fails
without disturbing anything else."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from tests.helpers.protection import enroll, text_of
from tests.helpers.server import TZ_NAME, Desk, Server, ServerFactory, SwitchableTransport, csrf_of

from cssec.core.clock import FakeClock
from cssec.core.license import grace_end
from cssec.server.models import MailNotice

TOKYO = ZoneInfo(TZ_NAME)
LOGIN, SECRET = "cssec", "smtp-pass-9f2c"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    mail: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.mail["Subject"])

    @property
    def body(self) -> str:
        part = self.mail.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Inbox:
    """What the SMTP server accepted, and the logins it saw."""

    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: SmtpSession, envelope: Envelope) -> str:
        if self.refuse:
            return "554 5.7.1 rejected by the test"
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: SmtpSession, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append(data.login.decode())
            ok = data.login == LOGIN.encode() and data.password == SECRET.encode()
            return AuthResult(success=ok)
        return AuthResult(success=False)

    def take(self) -> list[Received]:
        taken, self.received = self.received, []
        return taken


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=_free_port())
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=box.authenticate,
        auth_require_tls=False,  # loopback only; STARTTLS/TLS are the same smtplib calls
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TOKYO)


async def _configure(server: Server, port: int, **change: str) -> Any:
    page = await server.client.get("/admin/mail")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_of(page.text),
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "security": "none",
        "username": LOGIN,
        "password": SECRET,
        "sender": "cssec-server@example.jp",
        "recipients": "admin@example.jp, sec@example.jp",
        "failure_threshold": "3",
        **change,
    }
    return await server.client.post("/admin/mail", data=form)


async def _server(servers: ServerFactory, desk: Desk, inbox: Inbox) -> tuple[Server, date]:
    contract = desk.contract()
    settings = await servers.install(activation_code=contract.codes["CS"])
    server = servers.open(settings.model_copy(update={"enroll_rate_limit": "1000/minute"}))
    await server.login()
    assert (await _configure(server, inbox.port)).status_code == 303
    return server, contract.end


async def _set_language(server: Server, lang: str) -> None:
    token = await server.csrf("/dashboard")
    await server.client.post("/language", data={"lang": lang, "csrf_token": token})


async def test_settings_keep_the_password_secret_and_send_a_test_mail(
    servers: ServerFactory, desk: Desk, inbox: Inbox
) -> None:
    server, _end = await _server(servers, desk, inbox)
    page = await server.client.get("/admin/mail")
    assert SECRET not in page.text
    assert 'data-testid="password-stored"' in page.text
    assert 'value="127.0.0.1"' in page.text
    # Saving with the password field empty keeps the stored one.
    assert (await _configure(server, inbox.port, password="")).status_code == 303
    test = await server.client.post("/admin/mail/test", data={"csrf_token": csrf_of(page.text)})
    assert test.status_code == 303
    [mail] = inbox.take()
    assert inbox.logins == [LOGIN]
    assert mail.subject == "[C/S Sec.] テストメール"
    assert "テストメールです" in mail.body
    assert mail.sender == "cssec-server@example.jp"
    assert mail.recipients == ["admin@example.jp", "sec@example.jp"]
    assert mail.mail["To"] == "admin@example.jp, sec@example.jp"
    flashed = await server.client.get("/admin/mail")
    assert "テストメールを送信しました" in text_of(flashed.text)
    # A forged post changes nothing.
    forged = await server.client.post("/admin/mail", data={"smtp_host": "evil.example"})
    assert forged.status_code == 303
    assert 'value="127.0.0.1"' in (await server.client.get("/admin/mail")).text


def _beside(page: str, field: str) -> str:
    """The error shown right after the field's input, or "" when there is none."""
    after = page.split(f'name="{field}"', 1)[1].split("</td>", 1)[0]
    if 'class="field-error"' not in after:
        return ""
    return text_of(after.split('class="field-error"', 1)[1].split("</span>", 1)[0])


async def test_invalid_settings_are_refused_beside_the_field_keeping_the_form(
    servers: ServerFactory, desk: Desk, inbox: Inbox
) -> None:
    server, _end = await _server(servers, desk, inbox)
    response = await _configure(
        server, inbox.port, smtp_host="smtp.example.jp", sender="not an address"
    )
    assert response.status_code == 422
    page = response.text
    assert "送信元のメールアドレスが正しくありません" in _beside(page, "sender")
    assert "保存されていません" in text_of(page)
    # Every other field stays as typed; only the wrong one is marked.
    assert 'value="smtp.example.jp"' in page
    assert f'value="{inbox.port}"' in page
    assert 'value="admin@example.jp, sec@example.jp"' in page
    assert 'value="not an address"' in page
    assert _beside(page, "smtp_host") == ""
    assert 'aria-describedby="sender-error"' in page
    assert SECRET not in page, "a typed password is never sent back"
    assert 'data-testid="password-retype"' in page
    # Nothing was saved.
    saved = (await server.client.get("/admin/mail")).text
    assert 'value="127.0.0.1"' in saved
    assert 'value="cssec-server@example.jp"' in saved


async def test_a_sender_alone_is_not_saved_as_working_mail(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    page = await server.client.get("/admin/mail")
    form = {
        "csrf_token": csrf_of(page.text),
        "smtp_host": "",
        "smtp_port": "25",
        "security": "none",
        "sender": "cssec-server@example.jp",
        "recipients": "",
        "failure_threshold": "3",
    }
    response = await server.client.post("/admin/mail", data=form)
    assert response.status_code == 422
    assert "SMTP サーバを入力してください" in _beside(response.text, "smtp_host")
    assert "宛先を入力してください" in _beside(response.text, "recipients")
    assert 'value="cssec-server@example.jp"' in response.text
    after = await server.client.get("/admin/mail")
    assert "保存しました" not in text_of(after.text)
    assert 'value="cssec-server@example.jp"' not in after.text


async def test_reminders_across_the_expiry_each_once_in_the_admins_language(
    servers: ServerFactory, desk: Desk, inbox: Inbox, clock: FakeClock
) -> None:
    server, end = await _server(servers, desk, inbox)
    subjects: list[str] = []

    async def at(day: date) -> list[Received]:
        clock.set(midnight(day) + timedelta(seconds=1))
        await server.scheduler.run_due_checks()
        await server.scheduler.run_due_checks()  # a second tick sends nothing again
        got = inbox.take()
        subjects.extend(m.subject for m in got)
        return got

    assert await at(end - timedelta(days=91)) == []
    [ninety] = await at(end - timedelta(days=90))
    assert ninety.subject == f"[C/S Sec.] C/S Sec.の有効期限まであと 90 日です ({end})"
    assert "ステータスをオンラインで確認" in ninety.body
    assert ninety.recipients == ["admin@example.jp", "sec@example.jp"]
    assert await at(end - timedelta(days=89)) == []
    [sixty] = await at(end - timedelta(days=60))
    assert "あと 60 日" in sixty.subject
    [thirty] = await at(end - timedelta(days=30))
    assert "あと 30 日" in thirty.subject
    assert "30 日前のお知らせ" in thirty.body

    # The day-1 online check runs (core.schedule) and sends no new notice.
    calls = server.slot().last_success
    assert await at(end - timedelta(days=1)) == []
    assert server.slot().last_success != calls
    assert await at(end) == [], "expiry day: still activated"

    [grace] = await at(end + timedelta(days=1))
    ends = grace_end(end, 30)
    assert grace.subject == "[C/S Sec.] C/S Sec.が更新猶予期間に入りました (あと 29 日)"
    assert f"猶予期間は {ends}に終わります" in grace.body
    assert await at(end + timedelta(days=2)) == []

    # The administrator switches to English: the next notice comes in English.
    await _set_language(server, "en")
    [expired] = await at(ends + timedelta(days=1))
    assert expired.subject == "[C/S Sec.] C/S Sec. has expired"
    assert "These have stopped" in expired.body
    assert "契約" not in expired.body
    assert await at(ends + timedelta(days=2)) == []

    assert len(subjects) == 5
    with server.app.state.server.sessionmaker() as session:
        notices = session.scalars(select(MailNotice).order_by(MailNotice.id)).all()
        assert [n.kind for n in notices] == [
            "license.expiring",
            "license.expiring",
            "license.expiring",
            "license.grace",
            "license.expired",
        ]
        assert {n.status for n in notices} == {"sent"}


async def test_failing_online_checks_mail_after_n_in_a_row(
    servers: ServerFactory,
    desk: Desk,
    inbox: Inbox,
    clock: FakeClock,
    network: SwitchableTransport,
) -> None:
    server, end = await _server(servers, desk, inbox)
    network.mode = "down"
    clock.set(midnight(end - timedelta(days=200)))
    for _ in range(3):  # manual checks (Check status online), all failing
        clock.advance(timedelta(hours=1))
        await server.check_form()
    assert server.slot().consecutive_failures >= 3
    await server.scheduler.run_notices()  # the scheduler's next tick (at most a minute)
    [mail] = inbox.take()
    assert "オンライン確認が" in mail.subject
    assert "回続けて失敗しています" in mail.subject
    assert "vendor_unreachable" in mail.body
    await server.check_form()
    await server.scheduler.run_due_checks()
    assert inbox.take() == [], "once per failing streak"
    network.mode = "up"
    await server.check_form()
    assert server.slot().consecutive_failures == 0


async def test_seats_exceeded_mail(servers: ServerFactory, desk: Desk, inbox: Inbox) -> None:
    server, _end = await _server(servers, desk, inbox)
    for n in range(25):
        await enroll(server, f"pc-{n:02d}")
    assert inbox.take() == []
    await enroll(server, "pc-25")
    [mail] = inbox.take()
    assert mail.subject == "[C/S Sec.] C/S Sec.の使用数がライセンス数を超えています (26 / 25)"
    assert "クライアントのインストールや保護は引き続き動作します" in mail.body
    await enroll(server, "pc-26")
    assert inbox.take() == [], "once per crossing"


async def test_a_failing_smtp_server_disturbs_nothing(
    servers: ServerFactory, desk: Desk, inbox: Inbox, clock: FakeClock
) -> None:
    server, end = await _server(servers, desk, inbox)
    inbox.refuse = True
    for n in range(26):
        await enroll(server, f"pc-{n:02d}")  # 200 although the mail is refused
    clock.set(midnight(end - timedelta(days=90)) + timedelta(seconds=1))
    tick = await server.scheduler.run_due_checks()
    assert [o.ok for o in tick.outcomes] == [True]
    assert server.slot().last_success == clock.now()
    failed = server.events("mail.send_failed")
    # the seats mail failed at once and again on the tick (its retry was due), the
    # expiry mail once; both wait for their next retry
    assert sorted(e.details["kind"] for e in failed) == [
        "license.expiring",
        "seats.exceeded",
        "seats.exceeded",
    ]
    assert all("554" in e.details["cause"] for e in failed)
    assert all(e.details["retry_at"] for e in failed)
    assert "ライセンスやその他の動作には影響ありません" in failed[0].message_ja
    with server.app.state.server.sessionmaker() as session:
        notices = session.scalars(select(MailNotice).order_by(MailNotice.id)).all()
        assert [(n.status, n.attempts) for n in notices] == [("pending", 2), ("pending", 1)]

    # Nobody listening at all: the test button says so and logs it.
    assert (await _configure(server, _free_port())).status_code == 303
    page = await server.client.get("/admin/mail")
    test = await server.client.post("/admin/mail/test", data={"csrf_token": csrf_of(page.text)})
    assert test.status_code == 303
    shown = text_of((await server.client.get("/admin/mail")).text)
    assert "テストメールを送信できませんでした" in shown
    assert [e.details["kind"] for e in server.events("mail.send_failed")].count("test") == 1


async def test_without_mail_settings_notices_are_kept_unsent(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    clock.set(midnight(contract.end - timedelta(days=90)) + timedelta(seconds=1))
    await server.scheduler.run_due_checks()
    with server.app.state.server.sessionmaker() as session:
        [notice] = session.scalars(select(MailNotice)).all()
        assert (notice.kind, notice.status) == ("license.expiring", "unsent")
    assert server.events("mail.send_failed") == []


async def test_outbreak_alerts_go_through_the_administrators_mail(
    servers: ServerFactory, desk: Desk, inbox: Inbox
) -> None:
    server, _end = await _server(servers, desk, inbox)
    form = {
        "enabled": "1",
        "min_detections": "4",
        "min_clients": "2",
        "window_minutes": "10",
        "cooldown_minutes": "30",
        "smtp_port": "25",
        "csrf_token": await server.csrf("/admin/outbreak-monitor"),
    }
    assert (await server.client.post("/admin/outbreak-monitor", data=form)).status_code == 303
    agents = []
    for host in ("pc-a", "pc-b"):
        token, _uid = await enroll(server, host)
        agents.append(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=server.app, client=("127.0.0.1", 40000)),
                base_url="http://server.test",
                headers={"Authorization": f"Bearer {token}"},
            )
        )
    detections = [{"path": f"/share/f{i}.com", "threat": "Eicar_test_file"} for i in range(2)]
    for agent in agents:
        async with agent:
            response = await agent.post(
                "/api/v1/agent/virus-log", json={"scan_type": "realtime", "detections": detections}
            )
            assert response.status_code == 204
    [mail] = inbox.take()
    assert mail.subject.startswith("[C/S Sec.] アウトブレーク警告 #")
    assert "アウトブレークの可能性があります" in mail.body
    assert "Possible outbreak" not in mail.body, "the administrator's language only"
    assert mail.recipients == ["admin@example.jp", "sec@example.jp"]
