"""The real-time scan switch (per client, with defaults for new ones) and Damage Cleanup
requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class RealtimeDefaults(Base):
    """One row (id 1): the real-time switch a client gets until the administrator sets its own."""

    __tablename__ = "realtime_defaults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    realtime_scan: Mapped[bool] = mapped_column(Boolean)
    realtime_folders: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class ClientRealtime(Base):
    """A client's own real-time scan switch: made from the defaults at its first heartbeat (or
    when the administrator sets it), so changing the defaults later only affects new clients."""

    __tablename__ = "client_realtime"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    realtime_scan: Mapped[bool] = mapped_column(Boolean)
    realtime_folders: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))
    running: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # as last reported
    running_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CleanupRequest(Base):
    """A Damage Cleanup Services run the administrator asked a client to perform."""

    __tablename__ = "cleanup_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(64))
    paths: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | done
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    summary: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
