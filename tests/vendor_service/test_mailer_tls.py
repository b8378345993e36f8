"""The vendor's notice mail over STARTTLS and over TLS to a real SMTP server (aiosmtpd on
loopback, a certificate from a test CA, a required login): the notice arrives once the
CA is trusted (`smtp_ca_file`); with a certificate the vendor does not trust nothing is
sent, the attempt is logged with a clear cause and retried on the outbox's back-off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from tests.helpers.smtp_sink import Mailbox, TestCA, smtp_sink

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.models import DeliveryAttempt
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.scheduler import run_scheduled_work
from cssec.vendor_service.settings import VendorSettings

LOGIN = ("license-mailer", "vendor-smtp-3b8a")


@pytest.fixture(params=["starttls", "tls"])
def security(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
def mailbox(security: str, ca: TestCA) -> Iterator[Mailbox]:
    with smtp_sink(security=security, ca=ca, login=LOGIN) as box:
        yield box


def _settings(
    settings: VendorSettings, box: Mailbox, security: str, ca: Path | None
) -> VendorSettings:
    return settings.model_copy(
        update={
            "smtp_host": "localhost",
            "smtp_port": box.port,
            "smtp_security": security,
            "smtp_username": LOGIN[0],
            "smtp_password": SecretStr(LOGIN[1]),
            "smtp_sender": "license@cssec.example",
            "smtp_ca_file": ca,
            "background_jobs": False,
        }
    )


def _run_on_end_day(settings: VendorSettings, clock: FakeClock) -> list[DeliveryAttempt]:
    vendor = open_vendor(settings, clock=clock)
    try:
        with vendor.session() as session:
            issued = services.issue_contract(
                session, customer="株式会社暗号", seats=5, contact_email="tanto@angou.example",
                actor="t",
            )  # fmt: skip
        clock.set(datetime.combine(issued.end, datetime.min.time(), UTC))
        run_scheduled_work(vendor)
        with vendor.session() as session:
            return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
    finally:
        vendor.close()


def test_notice_mail_over_tls_with_login(
    settings: VendorSettings, clock: FakeClock, mailbox: Mailbox, security: str, ca: TestCA
) -> None:
    attempts = _run_on_end_day(_settings(settings, mailbox, security, ca.ca_file), clock)
    assert [(a.ok, a.status_code) for a in attempts] == [(True, 250)]
    [mail] = mailbox.received()
    assert mail["To"] == "tanto@angou.example"
    assert "本日" in str(mail["Subject"])
    assert mailbox.logins == [LOGIN[0]]


def test_an_untrusted_certificate_is_refused_and_retried(
    settings: VendorSettings, clock: FakeClock, mailbox: Mailbox, security: str
) -> None:
    configured = _settings(settings, mailbox, security, None)  # the system's CAs only
    attempts = _run_on_end_day(configured, clock)
    assert [(a.ok, a.status_code) for a in attempts] == [(False, None)]
    assert attempts[0].error is not None
    assert attempts[0].error.startswith("certificate_untrusted")
    assert "smtp_ca_file" in attempts[0].error
    assert mailbox.received() == []
    assert mailbox.logins == [], "the login never left before the handshake"
    clock.advance(timedelta(minutes=1))
    vendor = open_vendor(configured, clock=clock)
    try:
        again = run_scheduled_work(vendor).deliveries
    finally:
        vendor.close()
    assert [(d.channel, d.ok) for d in again] == [("mail", False)], "retried on the back-off"


def test_starttls_is_never_skipped(settings: VendorSettings, clock: FakeClock) -> None:
    """STARTTLS configured, a server that does not offer it: nothing sent, no login."""
    with smtp_sink(login=None) as plain:
        attempts = _run_on_end_day(_settings(settings, plain, "starttls", None), clock)
        assert plain.received() == []
    assert [(a.ok, a.status_code) for a in attempts] == [(False, None)]
    assert attempts[0].error is not None
    assert "SMTPNotSupportedError" in attempts[0].error
