"""What the C/S Sec. servers did with their codes: each server registered with a
contract's key, and every status check it made."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cssec.vendor_service.models.base import Base, UTCDateTime


class Registration(Base):
    """One C/S Sec. server registered with a contract's registration key."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("contract_id", "server_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    server_id: Mapped[str] = mapped_column(String(128))
    company: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)


class StatusCheck(Base):
    __tablename__ = "status_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activation_code_id: Mapped[int] = mapped_column(ForeignKey("activation_codes.id"), index=True)
    server_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    contract_end: Mapped[date] = mapped_column(Date)
    seats_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Clients the server counted as in use when it asked (None: it did not say)."""
    request_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    """The balancer's id of the request (nginx's X-Request-Id, from a trusted proxy only):
    a check retried on another node is recorded once (`services.status_log`)."""
