"""Mail to customers over SMTP, configured by CSSEC_VENDOR_SMTP_* (`VendorSettings`).

Security is `starttls` (the default, port 587), `tls` (SMTP over TLS, port 465) or `none`
(a relay on the local network); with TLS the server's certificate is verified against
the system's CAs, or `smtp_ca_file`. The password is sent only over the connection
(SMTP AUTH needs it as given) and never logged.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from cssec.vendor_service.settings import VendorSettings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    sender: str
    ca_file: Path | None
    timeout: float = 10.0


def smtp_config(settings: VendorSettings) -> SmtpConfig | None:
    """None while mail is not set up (no SMTP host or no sender)."""
    if not settings.smtp_host or not settings.smtp_sender:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        sender=settings.smtp_sender,
        ca_file=settings.smtp_ca_file,
    )


def build_mail(
    config: SmtpConfig, *, to: str, subject: str, body: str, at: datetime, notice: str
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = config.sender
    mail["To"] = to
    mail["Date"] = format_datetime(at)
    domain = config.sender.rpartition("@")[2] or "cssec.invalid"
    mail["Message-ID"] = make_msgid(domain=domain)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Cssec-Notice"] = notice
    mail.set_content(body, charset="utf-8")
    return mail


def send_mail(config: SmtpConfig, mail: EmailMessage, to: str) -> int:
    """Send one message (blocking); returns the SMTP reply code that accepted it (250).
    Raises OSError (ssl.SSLError included) or smtplib.SMTPException."""
    context = ssl.create_default_context(
        cafile=str(config.ca_file) if config.ca_file is not None else None
    )
    smtp: smtplib.SMTP
    if config.security == "tls":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with smtp:
        if config.security == "starttls":
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
        refused = smtp.send_message(mail, from_addr=config.sender, to_addrs=[to])
    if refused:
        code, reason = refused[to]
        raise smtplib.SMTPRecipientsRefused({to: (code, reason)})
    return 250


def describe_failure(exc: BaseException) -> tuple[int | None, str]:
    """The SMTP reply code (when the server gave one) and a short cause for the log; a
    certificate the client refused is `certificate_untrusted` with OpenSSL's reason."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return None, f"certificate_untrusted ({exc.verify_message}): check smtp_ca_file"[:500]
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        reason = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return exc.smtp_code, f"{type(exc).__name__}: {reason}"[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reason in exc.recipients.values()]
        return (codes[0] if codes else None), f"{type(exc).__name__}"
    text = str(exc).strip()
    return None, (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:500]
