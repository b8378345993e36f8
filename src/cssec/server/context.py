"""Everything the server's routes and its scheduler share, built once by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.server.accounts.auth import UnknownNameLockout
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.settings import ServerSettings
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.vendor import VendorTls
from cssec.web.i18n import current_language
from cssec.web.ratelimit import RateLimiter


@dataclass
class ServerContext:
    settings: ServerSettings
    data: DataDir
    engine: Engine
    sessionmaker: sessionmaker[Session]
    clock: Clock
    tz: tzinfo
    vendor_url: str
    vendor_transport: httpx.AsyncBaseTransport | None = None
    vendor_tls: VendorTls = field(default_factory=VendorTls)
    """The CA and the plain-HTTP allowance recorded at install (server.tls.vendor)."""
    limiter: RateLimiter = field(default_factory=RateLimiter)
    unknown_names: UnknownNameLockout = field(default_factory=UnknownNameLockout)
    """Login failures of every name (`create_app` puts them in the database:
    `cssec.web.lockout_db`; the default, in memory, is for contexts that never log in)."""

    def vendor(self) -> VendorClient:
        """A client for one piece of work, speaking the current request's language."""
        return VendorClient(
            self.vendor_url,
            transport=self.vendor_transport,
            proxy=self.settings.http_proxy,
            timeout=self.settings.vendor_timeout_seconds,
            language=current_language.get(),
            tls=self.vendor_tls,
        )

    def license_env(self) -> LicenseEnv:
        return LicenseEnv(
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            tz=self.tz,
            data=self.data,
            vendor=self.vendor if self.vendor_url else None,
            seat_window_days=self.settings.seat_window_days,
        )
