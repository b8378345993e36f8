"""What each client last said of its component versions (`client.health`), summed per
version for the vendor's staged rollouts (`server.updates.health`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class ClientComponentHealth(Base):
    """A client's cumulative counts for one component version (replaced at every heartbeat)."""

    __tablename__ = "client_component_health"
    __table_args__ = (UniqueConstraint("client_id", "component", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer, index=True)
    component: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    loaded: Mapped[int] = mapped_column(Integer)
    load_failures: Mapped[int] = mapped_column(Integer)
    scans: Mapped[int] = mapped_column(Integer)
    scan_errors: Mapped[int] = mapped_column(Integer)
    crashes: Mapped[int] = mapped_column(Integer)
    detections: Mapped[int] = mapped_column(Integer)
    quarantines: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
