"""Issue #6 tables: the outbreak monitor (アウトブレークモニタ) and log management (ログ管理).

`outbreak_monitor` and `log_management` hold one row each (id 1), made with defaults on
first read. An alert records what crossed the threshold; while it is not acknowledged and
its cool-down runs, more detections of the same outbreak raise no second alert.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models import Base, UTCDateTime


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


class LogManagementSettings(Base):
    """Retention in days per log (0 = keep forever) and the last automatic purge."""

    __tablename__ = "log_management"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    virus_days: Mapped[int] = mapped_column(Integer)
    update_days: Mapped[int] = mapped_column(Integer)
    system_event_days: Mapped[int] = mapped_column(Integer)
    connection_days: Mapped[int] = mapped_column(Integer)
    last_auto_purge_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
