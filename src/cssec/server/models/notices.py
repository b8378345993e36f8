"""Mail to the administrator: the SMTP settings (one row) and every notice the server
decided to send, keyed by its occasion so that each is sent once (an expiry stage of one
expiry date, one crossing of the seat count, one outbreak alert...)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class MailSettings(Base):
    """One row (id 1). The password is kept because SMTP AUTH needs it as typed; the Web
    manager never shows it back (a blank field on save keeps it)."""

    __tablename__ = "mail_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    smtp_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    smtp_port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(16))  # none | starttls | tls
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(255), nullable=True)
    recipients: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    failure_threshold: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class MailNotice(Base):
    """One notice for the administrator, in both languages; the mail goes out in the
    administrator's language after the transaction that decided it committed."""

    __tablename__ = "mail_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    subject_ja: Mapped[str] = mapped_column(String(500))
    subject_en: Mapped[str] = mapped_column(String(500))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending (due, or waiting for its retry), sending (claimed), sent, failed (gave up
    after the last retry) or unsent (mail was not set up)."""
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """The last failed attempt's cause (kept while a retry is pending)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When a pending notice is due (None: at once); set by a failed attempt's back-off."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """While `sending`: until when the claiming process has it (then anyone may retry)."""
