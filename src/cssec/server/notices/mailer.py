"""The SMTP settings and the one function that sends mail.

Security is `none` (plain SMTP, for a relay on the local network), `starttls` (port 587
usually) or `tls` (SMTP over TLS, port 465 usually); the server's certificate and host
name are verified against the system's CAs whenever TLS is used (an in-house CA goes into
the system's store, or OpenSSL's `SSL_CERT_FILE`), and with `starttls` nothing, the login
least of all, is sent before the TLS handshake succeeded. The password is stored as given, because
SMTP AUTH needs it; it is never shown back (a blank field on save keeps the stored one).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from enum import StrEnum

from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.server.models import MailSettings, User

TIMEOUT_SECONDS = 10.0
DEFAULT_FAILURE_THRESHOLD = 3
SUBJECT_PREFIX = "[C/S Sec.]"


class Security(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


DEFAULT_PORTS = {Security.NONE: 25, Security.STARTTLS: 587, Security.TLS: 465}


class InvalidMailSetting(CssecError):
    code = "invalid_mail_setting"
    status = 422
    message_ja = (
        "メール通知の設定を保存できませんでした: {detail_ja} 値を直して、もう一度保存してください。"
    )
    message_en = "The mail settings were not saved: {detail_en} Correct the value and save again."


class MailNotConfigured(CssecError):
    code = "mail_not_configured"
    status = 409
    message_ja = (
        "メール通知が設定されていません。"
        "SMTP サーバ、送信元アドレス、宛先を入力して保存してください。"
    )
    message_en = (
        "Mail is not set up. Enter the SMTP server, the sender and the recipients, then save."
    )


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None
    sender: str
    recipients: list[str]


def recipients_of(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def read_mail_settings(session: Session) -> MailSettings:
    """The settings row (defaults, unsaved, when none was ever saved)."""
    row = session.get(MailSettings, 1)
    if row is None:
        row = MailSettings(
            id=1,
            smtp_port=25,
            security=Security.NONE.value,
            failure_threshold=DEFAULT_FAILURE_THRESHOLD,
        )
    return row


def smtp_config(row: MailSettings) -> SmtpConfig | None:
    """What `send_mail` needs, or None while mail is not set up (no server or recipients)."""
    to = recipients_of(row.recipients)
    if not row.smtp_host or not row.sender or not to:
        return None
    return SmtpConfig(
        host=row.smtp_host,
        port=row.smtp_port,
        security=Security(row.security),
        username=row.username or None,
        password=row.password,
        sender=row.sender,
        recipients=to,
    )


def admin_language(session: Session) -> str:
    """The administrator's language setting (the first account, `admin`); Japanese unless
    they chose English."""
    user = session.get(User, 1)
    return "en" if user is not None and user.language == "en" else "ja"


@dataclass(frozen=True)
class MailForm:
    smtp_host: str
    smtp_port: int
    security: str
    username: str
    password: str
    sender: str
    recipients: str
    failure_threshold: int


def _address(value: str) -> bool:
    _name, addr = parseaddr(value)
    local, _, domain = addr.partition("@")
    return bool(local and domain and "." in domain and " " not in addr)


def _invalid(ja: str, en: str) -> InvalidMailSetting:
    return InvalidMailSetting(detail_ja=ja, detail_en=en)


FieldErrors = dict[str, dict[str, str]]
"""Form field name -> the ja/en phrase shown beside it."""


def mail_form_errors(form: MailForm) -> FieldErrors:
    """Every field that is wrong, each with its own phrase, so the form can say it beside
    the field and keep the rest as typed. Empty when the form can be saved."""
    errors: FieldErrors = {}

    def bad(field: str, ja: str, en: str) -> None:
        errors.setdefault(field, {"ja": ja, "en": en})

    host = form.smtp_host.strip()
    sender = form.sender.strip()
    to = recipients_of(form.recipients)
    if any(c in host for c in " /\n\r") or len(host) > 255:
        bad("smtp_host", "SMTP サーバ名が正しくありません。", "the SMTP server name is not valid.")
    if not 1 <= form.smtp_port <= 65535:
        bad("smtp_port", "SMTP ポートは 1から65535です。", "the SMTP port is 1 to 65535.")
    if form.security not in {s.value for s in Security}:
        bad("security", "暗号化の方式を選んでください。", "choose the connection security.")
    if not 1 <= form.failure_threshold <= 100:
        bad(
            "failure_threshold",
            "通知するまでの失敗回数は 1から100です。",
            "the failures before a notice are 1 to 100.",
        )
    if any(not _address(a) for a in to) or len(form.recipients) > 1000:
        bad(
            "recipients",
            "宛先のメールアドレスが正しくありません (複数はカンマ区切り)。",
            "a recipient address is not valid (separate several with commas).",
        )
    if sender and not _address(sender):
        bad(
            "sender",
            "送信元のメールアドレスが正しくありません。",
            "the sender address is not valid.",
        )
    if host or to or sender:
        # Anything given means mail is wanted: then nothing it needs may be missing.
        for field, value, ja, en in (
            ("smtp_host", host, "SMTP サーバを入力してください。", "enter the SMTP server."),
            ("sender", sender, "送信元アドレスを入力してください。", "enter the sender address."),
            ("recipients", to, "宛先を入力してください。", "enter the recipients."),
        ):
            if not value:
                bad(field, ja, en)
    if len(form.username) > 255:
        bad("username", "ユーザー名が長すぎます。", "the login is too long.")
    if len(form.password) > 255:
        bad("password", "パスワードが長すぎます。", "the password is too long.")
    return errors


def mail_form_refusal(errors: FieldErrors) -> InvalidMailSetting:
    """One refusal naming every wrong field's phrase, for callers without a form."""
    return _invalid(
        " ".join(e["ja"] for e in errors.values()), " ".join(e["en"] for e in errors.values())
    )


def validate_mail_form(form: MailForm) -> None:
    errors = mail_form_errors(form)
    if errors:
        raise mail_form_refusal(errors)


def save_mail_settings(
    session: Session, form: MailForm, *, actor: str, now: datetime, keep_password: bool
) -> MailSettings:
    """Validate and store; the caller commits. `keep_password`: a blank password field
    keeps the stored password (it is never sent to the browser), unless the login is
    cleared too."""
    validate_mail_form(form)
    row = session.get(MailSettings, 1)
    if row is None:
        row = read_mail_settings(session)
        session.add(row)
    row.smtp_host = form.smtp_host.strip() or None
    row.smtp_port = form.smtp_port
    row.security = form.security
    row.username = form.username.strip() or None
    if form.password:
        row.password = form.password
    elif not keep_password or row.username is None:
        row.password = None
    row.sender = form.sender.strip() or None
    row.recipients = ", ".join(recipients_of(form.recipients)) or None
    row.failure_threshold = form.failure_threshold
    row.updated_at = now
    row.updated_by = actor
    return row


def build_mail(config: SmtpConfig, *, subject: str, body: str, at: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"{SUBJECT_PREFIX} {subject}"
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.recipients)
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(domain="cssec.invalid")
    mail.set_content(body, charset="utf-8")
    return mail


def send_mail(config: SmtpConfig, mail: EmailMessage) -> None:
    """Send one message (blocking; callers run it in a thread). Raises OSError (ssl.SSLError
    included) or smtplib.SMTPException."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.security is Security.TLS:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if config.security is Security.STARTTLS:
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(mail, from_addr=config.sender, to_addrs=config.recipients)


CERTIFICATE_UNTRUSTED = "certificate_untrusted"
"""The cause of a refused TLS certificate (`describe_failure`), named in the event."""


def describe_failure(exc: BaseException) -> str:
    """A short cause for the log: the exception's kind and, for SMTP replies, the code; a
    certificate the client refused is `certificate_untrusted` with OpenSSL's reason."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{CERTIFICATE_UNTRUSTED} ({exc.verify_message})"[:200]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
