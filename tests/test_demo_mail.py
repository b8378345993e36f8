"""The demo's mail catcher speaks real SMTP on loopback (smtplib, as the vendor's mailer
sends) and lists what it received on its page, links clickable."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from cssec.demo_mail import MailCatcher


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    running = MailCatcher(tmp_path / "mail").start()
    try:
        yield running
    finally:
        running.stop()


def _send(catcher: MailCatcher, subject: str, body: str, to: str) -> None:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = "licenses@vendor.example"
    mail["To"] = to
    mail.set_content(body, charset="utf-8")
    with smtplib.SMTP("127.0.0.1", catcher.smtp_port, timeout=10) as smtp:
        assert smtp.send_message(mail) == {}


def test_a_mail_sent_by_smtp_is_listed_newest_first_with_its_link(catcher: MailCatcher) -> None:
    assert "まだメールはありません" in httpx.get(catcher.url, timeout=5).text
    _send(catcher, "最初のお知らせ", "契約終了の90日前です。\n", "a@example.jp")
    link = "https://127.0.0.1:8100/portal/signin/abc?x=1&y=2"
    _send(
        catcher,
        "サインイン用リンク",
        f"次のリンクを開いてください:\n{link}\n.先頭のドット\n",
        "b@example.jp",
    )
    page = httpx.get(catcher.url, timeout=5).text
    assert page.index("サインイン用リンク") < page.index("最初のお知らせ")
    assert f'<a class="mail-link" href="{link.replace("&", "&amp;")}">' in page
    mails = httpx.get(catcher.url + "api/mails", timeout=5).json()
    assert [m["recipients"] for m in mails] == [["b@example.jp"], ["a@example.jp"]]
    assert ".先頭のドット" in mails[0]["body"]  # dot-stuffing undone, nothing lost
    assert sorted(p.name for p in (catcher.directory).glob("*.eml")) == ["0001.eml", "0002.eml"]


def test_it_refuses_data_before_a_recipient(catcher: MailCatcher) -> None:
    with smtplib.SMTP("127.0.0.1", catcher.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        code, _ = smtp.docmd("DATA")
        assert code == 503
    assert httpx.get(catcher.url + "api/mails", timeout=5).json() == []
