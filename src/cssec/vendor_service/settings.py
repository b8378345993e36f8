"""Settings of the vendor service, read once from CSSEC_VENDOR_* by the app factory and the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`CSSEC_VENDOR_DATABASE_URL=` (set but empty) is SQLite, for every command alike
        (backup used to take it for PostgreSQL while the rest opened SQLite)."""
        return None if isinstance(value, str) and not value.strip() else value

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

    admin_api_rate_limit: str = "600/minute"
    """Per-token limit on the admin API (/api/v1/admin/), every route counted together."""

    activeupdate_entitlement_ttl: float = Field(default=60.0, ge=0, le=3600)
    """Seconds an ActiveUpdate entitlement (a code's contract end, grace, not revoked) is
    cached per worker. A revocation, or a contract edit that ends it sooner, reaches the
    ActiveUpdate endpoints within this time (expiry by the date, and a renewal, at once);
    the status endpoint is never cached. 0 turns the cache off."""

    status_log_durable: bool = False
    """Answer a status check only once its history row is committed (group commit,
    `services.status_log`). Set it on nodes behind a load balancer: a node killed outright
    then loses no row of an answered check. Off: rows are written up to a quarter of a
    second behind the answers, and a killed process loses its last batch."""

    accel_redirect_prefix: str | None = None
    """Behind nginx: answer a component file download, after the license check, with
    `X-Accel-Redirect: <prefix><sha256>` and let nginx send the file from an `internal`
    location whose alias is data_dir/activeupdate/ (e.g. "/_cssec_files/"). Unset: the
    app sends the file itself."""

    feed_listen: bool = True
    """PostgreSQL: each worker LISTENs for publishes (`cssec.vendor_service.feedwatch`), so a
    new manifest is served by every node at once (one more connection per worker);
    SQLite: a marker file on the host."""

    feed_recheck_seconds: float = Field(default=1.0, gt=0, le=3600)
    """Seconds a worker trusts its cached manifest without reading the serial again, when
    it has no LISTEN connection (SQLite, or PostgreSQL while reconnecting). With one, a
    publish arrives as a notification and the serial is re-read every
    `feed_listen_recheck_seconds` only as a safety net."""

    feed_listen_recheck_seconds: float = Field(default=60.0, gt=0, le=86400)
    """The safety-net re-read of the manifest serial while the LISTEN connection is up."""

    max_body_bytes: int = 64 * 1024
    """Request bodies above this are refused with 413."""

    http_head_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds a client has to send a request's line and headers (from connecting, or from
    the first byte of the next request on a kept-alive connection); then it is closed."""

    http_body_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds within which a request body must bring 1 KiB more (or end); then the
    connection is closed, so a body trickled a byte at a time cannot hold it."""

    http_keep_alive: int = Field(default=5, ge=1, le=300)
    """Seconds an idle keep-alive connection stays open between two requests."""

    http_max_concurrency: int = Field(default=200, ge=1, le=100_000)
    """Connections or requests in flight per worker process beyond which requests are
    answered 503 at once (`cssec.web.serving.HttpLimits`)."""

    metrics_token: SecretStr | None = None
    """Bearer token that lets a non-loopback caller read /metrics (cssec.web.metrics);
    unset: only this host can."""

    session_secret: SecretStr | None = None
    """Console session signing secret; generated into data_dir/keys/session-secret when unset."""

    console_https_only: bool = False
    """Send the console's session cookie over HTTPS only (set it behind a TLS proxy;
    `serve --tls-cert` sets it itself)."""

    console_require_totp: bool = True
    """Require every staff member, admins first, to sign in to the console with a second
    factor (TOTP): one not enrolled yet enrols right after the password and can reach no
    other page before (services.two_factor). Turning it off is warned about at start."""

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

    webhook_allowed_targets: str = ""
    """Comma-separated addresses, networks (CIDR) and host names that webhooks may be
    posted to although they are not public (loopback, private, link-local, unique-local,
    metadata names: refused otherwise, `services.webhook_targets`), e.g.
    "10.20.0.0/16,hooks.corp.example"."""

    webhook_allow_http: bool = False
    """Allow plain http:// webhook URLs to targets named in `webhook_allowed_targets` (a
    demo or a test receiver); off: https only."""

    tuf_timestamp_expiry_hours: int = Field(default=24, ge=1, le=24 * 366)
    """Hours a TUF timestamp.json is valid (ActiveUpdate, `activeupdate.tuf_repo`). The
    service re-signs it when less than half is left; a server that sees nothing fresher for
    this long reports its components stale (a freeze is detected within this time)."""

    tuf_snapshot_expiry_days: int = Field(default=7, ge=1, le=3660)
    """Days a TUF snapshot.json is valid (re-signed when less than half is left)."""

    tuf_targets_expiry_days: int = Field(default=90, ge=1, le=3660)
    """Days a TUF targets.json is valid (re-signed when less than half is left, and at
    every publish)."""

    tuf_root_expiry_days: int = Field(default=365, ge=1, le=3660)
    """Days a root.json signed by `cssec vendor tuf root install` is valid; sign the next
    one (the offline keys' ceremony) well before."""

    rollout_min_clients: int = Field(default=50, ge=1, le=1_000_000)
    """Clients reporting on a rolling version before its health is judged (50: with fewer,
    one broken PC would be 2 % of the sample and halt a sound release)."""

    rollout_max_load_failure_excess: float = Field(default=0.02, ge=0, le=1)
    """Halt when the share of clients failing to load the new version exceeds the previous
    version's by this (0.02: a sound pattern loads everywhere; 2 points over the previous
    version's disk and memory noise is a broken file, not bad luck)."""

    rollout_max_scan_error_excess: float = Field(default=0.02, ge=0, le=1)
    """Halt when the share of scans ending in an error (or a crashed scanner) exceeds the
    previous version's by this."""

    rollout_surge_factor: float = Field(default=5.0, ge=1, le=1000)
    """Halt when detections or quarantines per client-hour reach this many times the
    previous version's (5: a new pattern that finds much more is a false positive far more
    often than an outbreak; outbreaks are seen across versions)."""

    rollout_health_min_interval_seconds: int = Field(default=300, ge=1, le=86_400)
    """A server's health reports are taken at most this often (more are answered 429)."""

    operators_mail: str | None = None
    """Addresses (comma-separated) of the vendor's operators, mailed when a rollout halts
    by itself (needs the SMTP settings); unset: the event, the audit row and the webhook only."""

    portal_url: str | None = None
    """The customer portal's public address as customers reach it (https://licenses.example.com),
    put in the e-mailed sign-in links. Unset: the address of the request, for loopback
    hosts only (anything else could carry a forged Host header into the mail)."""

    portal_signin_rate_limit: str = "5/minute;20/hour"
    """Sign-in link requests on the portal, per client address (never per key: anyone who
    knows a key could then lock its contact out; the contact's mailbox is protected by
    sending at most one pending link at a time)."""

    portal_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """How long an e-mailed portal sign-in link works (once)."""
