"""Settings of the C/S Sec. server, read once by the app factory and the CLI."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_AUTOPCC_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
"""Loopback and private networks: where an AutoPcc-style install may come from."""


def default_data_dir() -> Path:
    """A per-user data directory: $XDG_DATA_HOME/cssec/server, else ~/.local/share/cssec/server."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cssec" / "server"


class ServerSettings(BaseSettings):
    """Env prefix CSSEC_SERVER_. Secrets are not settings: they live in the data directory."""

    model_config = SettingsConfigDict(env_prefix="CSSEC_SERVER_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    """The installed data directory (database, pinned vendor keys, session secret)."""
    vendor_url: str | None = None
    """Base URL of the vendor service; None means the one recorded at install."""
    timezone: str | None = None
    """IANA zone in which license days and the 00:00 checks are counted; None = the system's."""
    http_proxy: str | None = None
    """Proxy for every outgoing call to the vendor (e.g. http://proxy:3128)."""
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    """Timeout of each call to the vendor; a slow vendor counts as unreachable."""
    online_checks: bool = True
    """Run the automatic status checks (00:00 on days 90/60/30/1/0 before expiry, daily after)."""
    check_retry_minutes: int = Field(default=60, ge=1)
    """First retry after a failed automatic check; doubles per failure up to a day."""
    rate_limit_storage: str = "memory://"
    """Storage of the login rate-limit counters (memory:// or redis://)."""
    cookie_secure: bool = False
    """Mark cookies Secure; set when the Web manager is served over HTTPS."""
    session_idle_minutes: int = Field(default=60, ge=1)
    """A Web manager session ends after this long without a request."""
    login_max_failures: int = Field(default=5, ge=1)
    """Failed logins in a row from one address before that address is refused for a while
    (`cssec.web.lockout`: other addresses, with the right password, still sign in)."""
    login_lockout_minutes: int = Field(default=15, ge=1)
    """How long an address is first refused after too many failures (doubling after)."""
    autopcc_networks: list[str] = Field(default_factory=lambda: list(DEFAULT_AUTOPCC_NETWORKS))
    """Networks a client may install from without a token (the AutoPcc route); JSON list."""
    enroll_rate_limit: str = "30/minute"
    """Enrollment attempts per source address (every route)."""
    agent_auth_failure_limit: str = "60/minute"
    """Agent calls with a bad client token per source address before refusing outright."""
    install_token_hours: int = Field(default=24, ge=1, le=24 * 90)
    """How long a web or remote install token stays valid."""
    client_offline_minutes: int = Field(default=30, ge=1)
    """A client without a heartbeat for this long is shown as offline."""
    seat_window_days: int = Field(default=30, ge=1, le=365)
    """A client counts against the seats while it has been seen within this many days."""
    metrics_token: SecretStr | None = None
    """Bearer token that lets a non-loopback caller read /metrics (cssec.web.metrics);
    unset: only this host can."""
    http_head_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds a client has to send a request's line and headers (from connecting, or from
    the first byte of the next request on a kept-alive connection); then it is closed."""
    http_body_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds within which a request body must bring 1 KiB more (or end); then the
    connection is closed, so a body trickled a byte at a time cannot hold it."""
    http_keep_alive: int = Field(default=5, ge=1, le=300)
    """Seconds an idle keep-alive connection stays open between two requests."""
    http_max_concurrency: int = Field(default=1000, ge=1, le=100_000)
    """Connections (idle kept-alive ones included) or requests in flight beyond which
    requests are answered 503 at once (`cssec.web.serving.HttpLimits`). Each client agent
    keeps its connection about 5 s after a heartbeat a minute, so some 1/12 of the
    clients are connected at any time: 1000 serves about 10,000."""

    @field_validator("autopcc_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(item.strip(), strict=False)) for item in value]
