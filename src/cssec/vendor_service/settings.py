"""Settings of the vendor service, read once from CSSEC_VENDOR_* by the app factory and the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

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

    database_pool_size: int = Field(default=16, ge=1)
    """PostgreSQL: connections each worker keeps open. With `database_max_overflow` a
    worker holds at most 32, so two workers fit 64 concurrent requests in 64 connections
    (PostgreSQL's default max_connections is 100)."""

    database_max_overflow: int = Field(default=16, ge=0)
    """PostgreSQL: extra connections a worker may open under load, closed when returned."""

    database_pool_recycle: int = Field(default=1800, ge=1)
    """PostgreSQL: seconds after which a pooled connection is replaced (instead of a
    liveness ping before every checkout)."""

    hot_pool_size: int = Field(default=8, ge=1, le=256)
    """PostgreSQL: connections each worker keeps for the hot paths' async reads (status
    checks and ActiveUpdate polls, `cssec.vendor_service.hotdb`), besides `database_pool_size`."""

    threads: int = Field(default=4, ge=1, le=256)
    """Threads per worker process that run the (synchronous) routes; more requests wait in
    the event loop. 4 measured best on the hot paths (docs/performance.md)."""

    rate_limit_storage: str = "memory://"
    """`limits` storage URI; redis://host:6379/0 shares the counters between workers."""

    registration_rate_limit: str = "20/minute"
    """Per-IP limit on POST /api/v1/registrations."""

    status_rate_limit: str = "60/minute"
    """Per-IP limit on POST /api/v1/status."""

    activeupdate_rate_limit: str = "120/minute"
    """Per-IP limit on each ActiveUpdate endpoint (manifest; files), counted separately."""

    activeupdate_entitlement_ttl: float = Field(default=60.0, ge=0, le=3600)
    """Seconds an ActiveUpdate entitlement (a code's contract end, grace, not revoked) is
    cached per worker. A revocation, or a contract edit that ends it sooner, reaches the
    ActiveUpdate endpoints within this time (expiry by the date, and a renewal, at once);
    the status endpoint is never cached. 0 turns the cache off."""

    max_body_bytes: int = 64 * 1024
    """Request bodies above this are refused with 413."""

    metrics_token: SecretStr | None = None
    """Bearer token that lets a non-loopback caller read /metrics (cssec.web.metrics);
    unset: only this host can."""

    session_secret: SecretStr | None = None
    """Console session signing secret; generated into data_dir/keys/session-secret when unset."""

    console_https_only: bool = False
    """Send the console's session cookie over HTTPS only (set it behind a TLS proxy;
    `serve --tls-cert` sets it itself)."""

    trusted_proxies: str | None = None
    """Addresses or networks of the reverse proxies (e.g. nginx terminating TLS) whose
    X-Forwarded-For / X-Forwarded-Proto are believed, comma-separated ("127.0.0.1", "*");
    uvicorn's forwarded_allow_ips. Unset: proxy headers are ignored and the peer address is
    the client address that the per-address rate limits count."""

    smtp_host: str | None = None
    """SMTP server for the contract notices mailed to customers (services.notices); unset:
    no mail is sent (the notices are still recorded and their webhooks still posted)."""

    smtp_port: int = Field(default=587, ge=1, le=65535)
    """Its port: 587 for starttls, 465 for tls, 25 for none, usually."""

    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """starttls (upgrade after connecting), tls (SMTP over TLS) or none (a local relay)."""

    smtp_username: str | None = None
    """SMTP AUTH login; unset: no login."""

    smtp_password: SecretStr | None = None
    """SMTP AUTH password."""

    smtp_sender: str | None = None
    """The From address of the notices; required with smtp_host."""

    smtp_ca_file: Path | None = None
    """PEM file of the CA that signed the SMTP server's certificate; unset: the system's CAs."""

    background_jobs: bool = True
    """`serve` runs the scheduled work itself (notices due, outbox deliveries); turn it off
    where cron runs `cssec vendor notices run` instead."""

    background_interval: float = Field(default=60.0, ge=0.05, le=3600)
    """Seconds between two runs of the scheduled work in `serve`; a new outbox message
    wakes it at once."""

    webhook_timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds a webhook endpoint has to answer before the attempt counts as failed."""
