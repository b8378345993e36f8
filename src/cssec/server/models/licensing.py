"""Who this server is and its license slots. License state is never stored: it is
computed from `expires_on` and the clock on every read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class ServerInfo(Base):
    """One row: who this server is, and the latest time it has seen (clock rollback guard)."""

    __tablename__ = "server_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[str] = mapped_column(String(64))
    vendor_url: Mapped[str] = mapped_column(String(500))
    install_mode: Mapped[str] = mapped_column(String(16))  # "online" | "offline"
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    latest_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    rollback_logged_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LicenseSlot(Base):
    """One product's license on this server; activation replaces the row's values in place."""

    __tablename__ = "license_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(8), unique=True)
    activation_code: Mapped[str] = mapped_column(String(31))
    version_type: Mapped[str] = mapped_column(String(16))
    seats: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer)
    confirmed_online: Mapped[bool] = mapped_column(Boolean)
    statement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    statement_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set only from the vendor's signed, nonce-bound "revoked" statement for this very code;
    # cleared when another code is activated.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set only from the vendor's signed, nonce-bound "invalid" answer for this very code (a
    # code it never issued); cleared when another code is activated.
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the clients seen lately first exceeded `seats` (None: within the seats); one
    # system event and one mail per crossing (clients.seats).
    seats_over_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LicenseRequest(Base):
    """An air-gapped renewal request this server wrote (`licensing.offline_renewal`): its
    nonce stays pending until a response bound to it is imported, which is then recorded
    so the same response imported again changes nothing."""

    __tablename__ = "license_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    server_kid: Mapped[str] = mapped_column(String(64))
    """The kid of the server identity key that signed it (storage.keycheck checks the key)."""
    codes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    imported_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    response_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
