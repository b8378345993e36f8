"""How long each TUF role's metadata is valid (vendor settings `tuf_*_expiry_*`).

Kept apart from `tuf_repo` so the runtime can put the configured lifetimes into every
session (`session.info["tuf_lifetimes"]`) without importing python-tuf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from cssec.vendor_service.settings import VendorSettings

SESSION_KEY = "tuf_lifetimes"


@dataclass(frozen=True)
class Lifetimes:
    """How long each role's metadata is valid; renewed when less than half is left."""

    root: timedelta = timedelta(days=365)
    targets: timedelta = timedelta(days=90)
    snapshot: timedelta = timedelta(days=7)
    timestamp: timedelta = timedelta(days=1)

    def of(self, role: str) -> timedelta:
        value: timedelta = getattr(self, role)
        return value

    @classmethod
    def from_settings(cls, settings: VendorSettings) -> Lifetimes:
        return cls(
            root=timedelta(days=settings.tuf_root_expiry_days),
            targets=timedelta(days=settings.tuf_targets_expiry_days),
            snapshot=timedelta(days=settings.tuf_snapshot_expiry_days),
            timestamp=timedelta(hours=settings.tuf_timestamp_expiry_hours),
        )


DEFAULT_LIFETIMES = Lifetimes()


def lifetimes_of(session: Session, lifetimes: Lifetimes | None = None) -> Lifetimes:
    """`lifetimes` when given, else the session's (`Vendor.sessionmaker`), else the defaults."""
    if lifetimes is not None:
        return lifetimes
    found = session.info.get(SESSION_KEY)
    return found if isinstance(found, Lifetimes) else DEFAULT_LIFETIMES
