"""ActiveUpdate's table: one row per published version of a component.

Registered on the vendor's declarative `Base` (so `Base.metadata` and the Alembic history
cover it); the file itself lives in the blob store under its SHA-256 (see `store.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cssec.vendor_service.models import Base, UTCDateTime


class ComponentVersionRow(Base):
    """Version `version` of `component` (a `core.policy.Component` value) is the file `sha256`.

    Versions count from 1 per component. The manifest serial is the highest `id`: ids only
    grow and publishes are serialised, so it grows with every publish. The same bytes may be
    published again as a later version (a rollback), hence `sha256` is indexed, not unique.
    """

    __tablename__ = "component_versions"
    __table_args__ = (UniqueConstraint("component", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(200))


class TufMetadataRow(Base):
    """One signed TUF metadata file (`tuf_repo`): version `version` of role `role` (root,
    targets, snapshot, timestamp), stored as the exact bytes served, so every vendor node
    answers the same bytes. Rows are only added, never changed: a new version is a new row.

    `serial` is the ActiveUpdate manifest serial the targets (and the snapshot and timestamp
    above them) describe; `root_version` the root whose keys signed the row. `endorsement`,
    on root rows only, is the vendor signing key's statement binding this root's SHA-256
    (how a server that trusts the vendor key comes to trust the TUF root, once).
    """

    __tablename__ = "tuf_metadata"
    __table_args__ = (UniqueConstraint("role", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    expires: Mapped[datetime] = mapped_column(UTCDateTime())
    serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    root_version: Mapped[int] = mapped_column(Integer)
    endorsement: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rollout_rev: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """On targets rows: the rollouts' revision (`rollouts.rollout_rev`) they carry."""


class ComponentRolloutRow(Base):
    """A staged rollout of the version row `version_id` (`rollouts.py`).

    `state`: active (rings advancing, or halted), completed (every server takes it: it is
    then simply the current version), superseded (a newer version of the component was
    published), pulled (`pulled_version` republished the previous content). `rev` grows
    with every change of any rollout (the highest one tells the TUF repository to sign a
    new targets version).
    """

    __tablename__ = "component_rollouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, unique=True)
    component: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rings: Mapped[list[int]] = mapped_column(JSON)
    step_hours: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ring: Mapped[int] = mapped_column(Integer, default=0)
    halted: Mapped[bool] = mapped_column(Boolean, default=False)
    halted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    halt_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    pulled_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rev: Mapped[int] = mapped_column(Integer, index=True)


class ComponentHealthRow(Base):
    """What one server last reported about one component version: its clients' counts,
    cumulative since that server installed it (so a repeated or replayed report never adds
    up twice), and the server's rollout bucket when it reported."""

    __tablename__ = "component_health"
    __table_args__ = (
        UniqueConstraint("server_id", "component", "version"),
        Index("ix_component_health_component_version", "component", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[str] = mapped_column(String(64))
    component: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(Integer)
    """The server's effective bucket x 100 (0..9999)."""
    clients: Mapped[int] = mapped_column(Integer)
    loaded: Mapped[int] = mapped_column(Integer)
    load_failures: Mapped[int] = mapped_column(Integer)
    scans: Mapped[int] = mapped_column(Integer)
    scan_errors: Mapped[int] = mapped_column(Integer)
    crashes: Mapped[int] = mapped_column(Integer)
    detections: Mapped[int] = mapped_column(Integer)
    quarantines: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    """Client-hours the counts cover (the surge check compares per hour)."""
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HealthReporter(Base):
    """The identity key a server's health reports are signed with: pinned at its first
    report (an entitled activation code is needed for that), so no other server can later
    speak for it; and when it last reported (the rate bound, and replays refused)."""

    __tablename__ = "health_reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[str] = mapped_column(String(64), unique=True)
    kid: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_report_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
