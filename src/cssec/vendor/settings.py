"""Settings of the vendor service, read once from CSSEC_VENDOR_* by the app factory and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """A per-user data directory: $XDG_DATA_HOME/cssec/vendor, else ~/.local/share/cssec/vendor."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cssec" / "vendor"


class VendorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CSSEC_VENDOR_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    """Where the SQLite database, the HMAC and signing keys and the session secret live."""

    database_url: str | None = None
    """SQLAlchemy URL (PostgreSQL in production); None means SQLite at data_dir/vendor.db."""

    rate_limit_storage: str = "memory://"
    """`limits` storage URI; redis://host:6379/0 shares the counters between workers."""

    registration_rate_limit: str = "20/minute"
    """Per-IP limit on POST /api/v1/registrations."""

    status_rate_limit: str = "60/minute"
    """Per-IP limit on POST /api/v1/status."""

    activeupdate_rate_limit: str = "120/minute"
    """Per-IP limit on each ActiveUpdate endpoint (manifest; files), counted separately."""

    max_body_bytes: int = 64 * 1024
    """Request bodies above this are refused with 413."""

    session_secret: SecretStr | None = None
    """Console session signing secret; generated into data_dir/keys/session-secret when unset."""

    console_https_only: bool = False
    """Send the console's session cookie over HTTPS only (set it behind a TLS proxy)."""
