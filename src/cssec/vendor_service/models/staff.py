"""The console's support-desk staff: accounts, second-factor recovery codes, and the
login throttle's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cssec.vendor_service.models.base import Base, UTCDateTime
from cssec.web.lockout_db import throttle_tables


class User(Base):
    """Support-desk staff of the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Part of every console session's fingerprint: bumped at logout, it ends the sessions
    signed in before (a copied cookie too), since a signed cookie has no server-side row."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Base32 TOTP secret once the second factor is enrolled (services.two_factor); a
    verifier needs it in the clear, so it is as secret as the database."""
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The 30-second time step of the last code accepted: that code, or an earlier one,
    is refused from then on (RFC 6238 §5.2)."""


class RecoveryCode(Base):
    """One of a staff member's single-use recovery codes for the second factor (argon2
    hash only; the codes are shown once, at enrolment)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


LOGIN_THROTTLE = throttle_tables(Base.metadata)
"""The console's password and second-factor failure counts (`cssec.web.lockout_db`): shared
by every worker, kept across restarts."""
