"""What the vendor tells others: webhook endpoints, the outbox of webhook posts and mails
with its delivery log, and the contract notices decided (each once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cssec.vendor_service.models.base import Base, UTCDateTime


class WebhookEndpoint(Base):
    """Where the vendor posts its events (Standard Webhooks), and which ones (services.webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    """whsec_<base64>: stored because signing needs it, never shown back; blanked on removal."""
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """One webhook post or one mail, written in the transaction that caused it and
    delivered after the commit, with retries (services.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The webhook-id (the same for every attempt: receivers deduplicate on it)."""
    channel: Mapped[str] = mapped_column(String(16))
    """webhook or mail."""
    event: Mapped[str] = mapped_column(String(64), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    recipient: Mapped[str | None] = mapped_column(String(254))
    contract_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    """pending, delivered, failed (retries exhausted) or cancelled (endpoint removed)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the last success or manual redelivery (the back-off step)."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Claimed by a sender until then; a sender that died leaves it to expire."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))

    endpoint: Mapped[WebhookEndpoint | None] = relationship()


class DeliveryAttempt(Base):
    """The delivery log: one row per attempt, with the HTTP (or SMTP) status and timing."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    """The attempt followed a manual redelivery."""


class ContractNotice(Base):
    """A notice decided for a contract (expiry 90/60/30/0 days ahead, grace end, seats
    exceeded): the unique key makes each one happen once, whatever runs the scheduler."""

    __tablename__ = "contract_notices"
    __table_args__ = (UniqueConstraint("contract_id", "kind", "occasion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(32))
    """The contract end it is about (a renewal starts new notices), or the day (seats)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipient: Mapped[str | None] = mapped_column(String(254))
    """Who was mailed (None: no contact address or no SMTP server; webhooks went anyway)."""
