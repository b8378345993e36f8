"""ActiveUpdate's table: one row per published version of a component.

Registered on the vendor's declarative `Base` (so `Base.metadata` and the Alembic history
cover it); the file itself lives in the blob store under its SHA-256 (see `store.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint
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
