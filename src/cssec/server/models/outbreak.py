"""The outbreak monitor (settings and alerts) and outbreak prevention policies with their
per-client deployment state. Policies are immutable once saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class OutbreakMonitorSettings(Base):
    """Alert when `min_detections` detections on at least `min_clients` clients arrive
    within `window_minutes`. Webhook and SMTP notifications are optional."""

    __tablename__ = "outbreak_monitor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    min_detections: Mapped[int] = mapped_column(Integer)
    min_clients: Mapped[int] = mapped_column(Integer)
    window_minutes: Mapped[int] = mapped_column(Integer)
    cooldown_minutes: Mapped[int] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    smtp_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    smtp_port: Mapped[int] = mapped_column(Integer)
    mail_from: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mail_to: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OutbreakAlert(Base):
    """One outbreak the monitor detected."""

    __tablename__ = "outbreak_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    detections: Mapped[int] = mapped_column(Integer)
    clients: Mapped[int] = mapped_column(Integer)
    threats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hostnames: Mapped[list[str]] = mapped_column(JSON, default=list)
    threshold: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notified: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutbreakPolicy(Base):
    """What outbreak prevention denies while deployed."""

    __tablename__ = "outbreak_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    deny_write_shares: Mapped[list[str]] = mapped_column(JSON)
    block_ports: Mapped[list[int]] = mapped_column(JSON)
    deny_files: Mapped[list[str]] = mapped_column(JSON)


class OutbreakAssignment(Base):
    """The last outbreak instruction issued to one client and what the client reported."""

    __tablename__ = "outbreak_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("outbreak_policies.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # deploy | release
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(64))
    applied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not reported
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
