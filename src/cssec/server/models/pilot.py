"""The administrator's pilot group (issue 24): which clients receive new components first,
and the component set currently in pilot (`server.updates.pilot`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class PilotSettings(Base):
    """One row: pilot mode, its promotion rule (hours, or None for the administrator's
    approval) and the manifest now in pilot (None when no set is in pilot)."""

    __tablename__ = "pilot_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    promote_hours: Mapped[int | None] = mapped_column(Integer, nullable=True, default=24)
    pilot_manifest_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PilotClient(Base):
    """A client in the pilot group."""

    __tablename__ = "pilot_clients"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
