"""Everything the vendor service needs at run time, built once from its settings.

`open_vendor` is shared by the app factory (`app.state.vendor`) and the CLI: it creates
the data directory, applies the Alembic history, opens the keyring, builds a sessionmaker
whose sessions carry the keyring, the clock and the ActiveUpdate store in `session.info`,
which is how services reach them (see `cssec.vendor_service.services`), and seeds version 1 of
each ActiveUpdate component on a fresh service.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock, SystemClock
from cssec.core.signing import SigningKey, write_secret_file
from cssec.vendor_service.activeupdate.health import SESSION_KEY as ROLLOUT_HEALTH_KEY
from cssec.vendor_service.activeupdate.health import HealthPolicy
from cssec.vendor_service.activeupdate.lifetimes import SESSION_KEY as LIFETIMES_KEY
from cssec.vendor_service.activeupdate.lifetimes import Lifetimes
from cssec.vendor_service.activeupdate.services import ensure_seed_components
from cssec.vendor_service.activeupdate.store import (
    DIR_MODE,
    FILE_MODE,
    SHA256_HEX,
    ActiveUpdateStore,
)
from cssec.vendor_service.keycheck import check_keys_match, ensure_keys_present
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.services._context import READ_ONLY
from cssec.vendor_service.services.status_log import StatusLog
from cssec.vendor_service.services.webhook_targets import SESSION_KEY as WEBHOOK_POLICY_KEY
from cssec.vendor_service.services.webhook_targets import TargetPolicy
from cssec.vendor_service.settings import VendorSettings
from cssec.web.db import make_engine, sqlite_url, upgrade_to_head
from cssec.web.filemodes import GROUP_READABLE, Fixed, create_private, secure_data_dir
from cssec.web.ratelimit import RateLimiter

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


@dataclass
class Vendor:
    """`app.state.vendor`: the one object the API, the console and the CLI work through."""

    settings: VendorSettings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    clock: Clock
    keyring: Keyring
    limiter: RateLimiter
    activeupdate: ActiveUpdateStore
    status_log: StatusLog
    session_secret: str = field(repr=False)
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    """Run first by `close`: work of the app's own threads to finish before the database
    goes (the admin API's activity writer and bulk jobs)."""

    @property
    def signing_key(self) -> SigningKey:
        return self.keyring.signing_key

    def session(self) -> Session:
        return self.sessionmaker()

    def close(self) -> None:
        for closer in self.closers:
            closer()
        self.status_log.close()
        self.engine.dispose()

    def retrying(self, work: Callable[[], T]) -> T:
        """Run `work` (which opens its own session), and once more if the database
        connection turned out to be dead (PostgreSQL restarted, a connection killed).

        The PostgreSQL pool does not ping before every checkout (a round trip per request);
        a dead connection is found by the first statement instead, SQLAlchemy then
        invalidates the whole pool, and the retry runs on a fresh connection. For the
        read-only hot paths only (a status check records its history row after its read
        succeeded, through `status_log`)."""
        try:
            return work()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return work()


def database_url(settings: VendorSettings) -> str:
    return settings.database_url or sqlite_url(settings.data_dir / "vendor.db")


def _sqlite_begin_immediate(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN, so concurrent writers wait (busy timeout) instead
    of failing with SQLITE_BUSY when a read transaction tries to become a write one.

    Transactions begun with the execution option READ_ONLY (`services.read_transaction`)
    begin DEFERRED instead: in WAL mode such readers neither take nor wait for the write
    lock, so read-only requests (status lookups, the ActiveUpdate manifest) of every worker
    run side by side instead of queueing behind one lock."""

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # `services._context.single_read`: one statement, no transaction
        read_only = options.get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _engine(settings: VendorSettings, url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = make_engine(url)
        _sqlite_begin_immediate(engine)
        return engine
    # Not web.db.make_engine: its pool pings the server before every checkout, one round
    # trip per request. Stale connections are replaced after `database_pool_recycle`, and
    # a connection found dead is retried once (`Vendor.retrying`).
    return create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=settings.database_pool_recycle,
        pool_pre_ping=False,
    )


def _session_secret(settings: VendorSettings) -> str:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = settings.data_dir / "keys" / "session-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_secret_file(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def secure_vendor_dir(root: Path) -> list[Fixed]:
    """The data directory's modes (`cssec.web.filemodes`): 0600 files in 0700 directories,
    but for the root (0710 allowed) and activeupdate/ (0750, files 0640): nginx, in the
    service's group, sends the ActiveUpdate files (deploy/systemd/cssec-vendor.service)."""
    return secure_data_dir(root, root_mode=0o710, shared={"activeupdate": GROUP_READABLE})


def share_activeupdate(root: Path) -> None:
    """The ActiveUpdate files as `BlobStore` writes them (directory 0750, files 0640), after
    a restore wrote every file 0600 in 0700 directories: nginx, in the service's group,
    sends them straight from disk and would answer 403 until each was published again."""
    store = root / "activeupdate"
    if not store.is_dir() or store.is_symlink():
        return
    store.chmod(DIR_MODE)
    for path in store.iterdir():
        if SHA256_HEX.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            path.chmod(FILE_MODE)


def open_vendor(settings: VendorSettings, *, clock: Clock | None = None) -> Vendor:
    """Create the data directory, migrate the database to head and open the keys."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secure_vendor_dir(settings.data_dir)
    url = database_url(settings)
    if settings.database_url is None:
        # Created private before SQLite opens it; its -wal and -shm files inherit the mode.
        create_private(settings.data_dir / "vendor.db")
    engine = _engine(settings, url)
    actual_clock: Clock = clock or SystemClock()
    try:
        upgrade_to_head(engine, MIGRATIONS)
        keys_dir = settings.data_dir / "keys"
        # Never new keys for a database that issued under old ones (keycheck).
        fresh_keys = ensure_keys_present(engine, keys_dir)
        keyring = Keyring.open(keys_dir, clock=actual_clock, create=fresh_keys)
        check_keys_match(engine, keyring, every_kid=True)
        secret = _session_secret(settings)
    except BaseException:
        engine.dispose()
        raise
    activeupdate = ActiveUpdateStore.in_data_dir(
        settings.data_dir,
        entitlement_ttl=settings.activeupdate_entitlement_ttl,
        recheck_seconds=settings.feed_recheck_seconds,
        listen_recheck_seconds=settings.feed_listen_recheck_seconds,
    )
    status_log = StatusLog(engine, clock=actual_clock, durable=settings.status_log_durable)
    maker = sessionmaker(
        bind=engine,
        expire_on_commit=False,
        info={
            "keyring": keyring,
            "clock": actual_clock,
            "activeupdate": activeupdate,
            "status_log": status_log,
            LIFETIMES_KEY: Lifetimes.from_settings(settings),
            WEBHOOK_POLICY_KEY: TargetPolicy.from_settings(settings),
            ROLLOUT_HEALTH_KEY: HealthPolicy.from_settings(settings),
            "rollout_operators": tuple(
                a.strip() for a in (settings.operators_mail or "").split(",") if a.strip()
            ),
        },
    )
    try:
        with maker() as session:
            ensure_seed_components(session)  # version 1 of each component on a fresh service
    except BaseException:
        engine.dispose()
        raise
    return Vendor(
        settings=settings,
        engine=engine,
        sessionmaker=maker,
        clock=actual_clock,
        keyring=keyring,
        limiter=RateLimiter(settings.rate_limit_storage),
        activeupdate=activeupdate,
        status_log=status_log,
        session_secret=secret,
    )
