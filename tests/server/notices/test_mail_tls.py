"""The administrator's mail over STARTTLS and over TLS (SMTP over TLS from the first
byte) to a real SMTP server (aiosmtpd on loopback) with a certificate from a test CA and
a required login: the test button and a notice arrive; a certificate the server does not
trust is refused with a clear error, and nothing (the login least of all) goes out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.protection import enroll, text_of
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of
from tests.helpers.smtp_sink import Mailbox, TestCA, smtp_sink

LOGIN = ("cssec-mail", "tls-pass-7d1e")


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
def trusted(ca: TestCA, monkeypatch: pytest.MonkeyPatch) -> TestCA:
    """The test CA in the system's store, as OpenSSL reads it (SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    return ca


@pytest.fixture(params=["starttls", "tls"])
def security(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def mailbox(security: str, ca: TestCA) -> Iterator[Mailbox]:
    with smtp_sink(security=security, ca=ca, login=LOGIN) as box:
        yield box


async def _server(servers: ServerFactory, desk: Desk) -> Server:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    server = servers.open(settings.model_copy(update={"enroll_rate_limit": "1000/minute"}))
    await server.login()
    return server


async def _configure(server: Server, mailbox: Mailbox, security: str, host: str) -> None:
    page = await server.client.get("/admin/mail")
    form = {
        "csrf_token": csrf_of(page.text),
        "smtp_host": host,
        "smtp_port": str(mailbox.port),
        "security": security,
        "username": LOGIN[0],
        "password": LOGIN[1],
        "sender": "cssec-server@example.jp",
        "recipients": "admin@example.jp",
        "failure_threshold": "3",
    }
    assert (await server.client.post("/admin/mail", data=form)).status_code == 303


async def _test_button(server: Server) -> str:
    page = await server.client.get("/admin/mail")
    sent = await server.client.post("/admin/mail/test", data={"csrf_token": csrf_of(page.text)})
    assert sent.status_code == 303
    return text_of((await server.client.get("/admin/mail")).text)


async def test_mail_over_tls_with_login(
    servers: ServerFactory, desk: Desk, mailbox: Mailbox, security: str, trusted: TestCA
) -> None:
    server = await _server(servers, desk)
    await _configure(server, mailbox, security, "localhost")
    shown = await _test_button(server)
    assert "テストメールを送信しました" in shown, [
        e.details for e in server.events("mail.send_failed")
    ]
    [mail] = mailbox.received()
    assert mail["Subject"] == "[C/S Sec.] テストメール"
    assert mailbox.logins == [LOGIN[0]]
    # A notice goes the same way: 26 clients on 25 seats.
    for n in range(26):
        await enroll(server, f"pc-{n:02d}")
    assert len(mailbox.received()) == 2
    assert "使用数がライセンス数を超えています" in str(mailbox.received()[1]["Subject"])
    assert server.events("mail.send_failed") == []


async def test_an_untrusted_certificate_is_refused_clearly(
    servers: ServerFactory, desk: Desk, mailbox: Mailbox, security: str
) -> None:
    server = await _server(servers, desk)  # the test CA is not trusted here
    await _configure(server, mailbox, security, "127.0.0.1")
    shown = await _test_button(server)
    assert "テストメールを送信できませんでした" in shown
    assert "certificate_untrusted" in shown
    [event] = server.events("mail.send_failed")
    assert event.details["cause"].startswith("certificate_untrusted")
    assert "SMTPサーバの証明書を検証できませんでした" in event.message_ja
    assert "certificate could not be verified" in event.message_en
    assert mailbox.received() == []
    assert mailbox.logins == [], "the login never left before the handshake"


async def test_a_certificate_for_another_name_is_refused(
    servers: ServerFactory, desk: Desk, ca: TestCA, trusted: TestCA
) -> None:
    server = await _server(servers, desk)
    with smtp_sink(security="tls", ca=ca, login=LOGIN, names=("mail.example.jp",)) as box:
        await _configure(server, box, "tls", "127.0.0.1")
        shown = await _test_button(server)
    assert "テストメールを送信できませんでした" in shown
    assert "certificate_untrusted" in shown
    assert "mismatch" in server.events("mail.send_failed")[0].details["cause"]
    assert box.received() == []
    assert box.logins == []


async def test_starttls_is_never_skipped(
    servers: ServerFactory, desk: Desk, trusted: TestCA
) -> None:
    """STARTTLS configured, a server that does not offer it: refused, the login unsent."""
    server = await _server(servers, desk)
    with smtp_sink() as plain:
        await _configure(server, plain, "starttls", "127.0.0.1")
        shown = await _test_button(server)
    assert "テストメールを送信できませんでした" in shown
    assert "SMTPNotSupportedError" in shown
    assert plain.received() == []
