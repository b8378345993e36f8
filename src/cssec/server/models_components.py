"""The server's tables for components and updates: every vendor manifest the server has
accepted (the envelope exactly as signed, so clients can verify it themselves), which one
is current and which one it replaced, and the two update logs (server and client).

The current version of each component is read from the current manifest's statement: one
source of truth, switched in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models import Base, UTCDateTime


class ComponentManifestRow(Base):
    """A vendor-signed ActiveUpdate manifest the server verified and switched to."""

    __tablename__ = "component_manifests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentStatus(Base):
    """One row: the current and previous manifest, a rolled-back serial the hourly poll does
    not apply again, and when the poll last ran."""

    __tablename__ = "component_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    current_manifest_id: Mapped[int | None] = mapped_column(
        ForeignKey("component_manifests.id"), nullable=True
    )
    previous_manifest_id: Mapped[int | None] = mapped_column(
        ForeignKey("component_manifests.id"), nullable=True
    )
    held_serial: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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
