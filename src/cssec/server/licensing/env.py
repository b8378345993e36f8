"""What the license services need: the database, time, the data directory and the vendor.

Built once per app (`server.context`) or per command (`cli_common`) and handed to the
entry path (`activation`), the check path (`online_check`), the air-gapped renewal and the
component updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.server.clients.seats import DEFAULT_SEAT_WINDOW_DAYS, seats_used
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.storage.datadir import DataDir

VendorFactory = Callable[[], VendorClient]


@dataclass(frozen=True)
class LicenseEnv:
    """What the license services need: the database, time, the data dir and the vendor."""

    sessionmaker: sessionmaker[Session]
    clock: Clock
    tz: tzinfo
    data: DataDir
    vendor: VendorFactory | None
    seat_window_days: int = DEFAULT_SEAT_WINDOW_DAYS
    """Clients seen within this many days count against the seats (clients.seats)."""

    def seats_used(self, session: Session) -> int:
        return seats_used(session, now=self.clock.now(), window_days=self.seat_window_days)
