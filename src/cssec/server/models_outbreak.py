"""Issue #6 tables: the real-time scan switch, Damage Cleanup requests, and outbreak
prevention (大規模感染予防) policies with their per-client deployment state.

Policies are immutable once saved: changing a policy saves a new row (a new id), so a
client can tell by id alone whether what it holds is current. Each client has at most one
outbreak assignment: the last deploy or release the administrator issued to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models import Base, UTCDateTime


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
