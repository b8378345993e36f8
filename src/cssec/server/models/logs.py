"""The four logs of the FAQ: virus log, update logs (server and client), system event
log and connection status log, and how long each is kept. Log rows keep names as they were,
so a log stays readable after what it names is gone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class SystemEvent(Base):
    __tablename__ = "system_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    level: Mapped[str] = mapped_column(String(16))  # info | warning | error
    kind: Mapped[str] = mapped_column(String(64), index=True)
    message_ja: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class VirusLogEntry(Base):
    """One detection a client reported (ウイルスログ)."""

    __tablename__ = "virus_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), nullable=True, index=True
    )
    hostname: Mapped[str] = mapped_column(String(255))
    client_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The reporting client's id, kept after it is removed (two hosts may share a name)."""
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scan_type: Mapped[str] = mapped_column(String(16))  # scan_now | realtime
    path: Mapped[str] = mapped_column(Text)
    threat: Mapped[str] = mapped_column(String(255), index=True)
    component: Mapped[str | None] = mapped_column(String(32), nullable=True)
    component_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(16))


class ConnectionLogEntry(Base):
    """One call of the agent API (接続状態の確認ログ): who, from where, what, and how it went."""

    __tablename__ = "connection_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), nullable=True, index=True
    )
    hostname: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # enroll | heartbeat | manifest | files | ...
    status: Mapped[str] = mapped_column(String(64))  # ok | the client's status | an error code


class ServerUpdateLog(Base):
    """アップデートログ (サーバ): every attempt to update from ActiveUpdate, and rollbacks."""

    __tablename__ = "update_log_server"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # install | schedule | manual | cli
    actor: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16), index=True)
    cause: Mapped[str | None] = mapped_column(String(64), nullable=True)
    serial: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_ja: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)


class ClientUpdateLog(Base):
    """アップデートログ (クライアント): what each client reported after an update attempt."""

    __tablename__ = "update_log_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16), index=True)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text)
    """The text as the client wrote it, in its own language (shown for rows without a code)."""
    message_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """What happened, as a code the Web manager renders in the reader's language."""
    message_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


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
