"""Components on the server: every vendor manifest accepted (the envelope exactly as
signed, so clients can verify it themselves) and which version of each component is current."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


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
