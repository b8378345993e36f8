"""The hot paths' one read, a code's facts, without SQLAlchemy.

Every status check and every ActiveUpdate poll that misses the entitlement cache reads one
row: a code's facts (`services.status.FACTS_QUERY`, the same SQLAlchemy statement,
compiled once for the database's driver). The row goes through the same verdict as on the
synchronous path (`services.status.code_facts_from_row`). Profiles showed SQLAlchemy's
connection, transaction and execution machinery, not the database, as most of a status
check's cost; these readers skip it (docs/performance.md has the figures):

- `PostgresReader`: psycopg's async pool in the worker's event loop, connections in
  autocommit (one statement each: no BEGIN or COMMIT round trips), at most
  `hot_pool_size` of them. A read on a connection that turns out to be dead (PostgreSQL
  restarted) is retried once on a fresh one, as `Vendor.retrying` does for the synchronous
  paths; other errors (psycopg.OperationalError, including the pool's timeout) reach the
  app's 503 handler. About 230 -> 80 µs of worker CPU per read.
- `SqliteReader`: one read-only sqlite3 connection per worker, used only from its event
  loop (a WAL read is local work that never waits for a writer). Dates come back as
  SQLite stores them, text, and are converted as SQLAlchemy's types would.

Both are opened and closed by the app's lifespan, in the worker's own loop; `is_open`
tells the handlers whether to use one (an app driven without a lifespan, as some tests
do, takes the synchronous path).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.dialects.sqlite.pysqlite import dialect as pysqlite_dialect
from sqlalchemy.engine import make_url

from cssec.vendor_service.services.status import FACTS_QUERY

PG_FACTS_SQL = str(FACTS_QUERY.compile(dialect=psycopg_dialect()))  # type: ignore[no-untyped-call]
SQLITE_FACTS_SQL = str(FACTS_QUERY.compile(dialect=pysqlite_dialect(paramstyle="named")))
_REVOKED_AT = 2  # FACTS_QUERY's revoked_at column


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://… → postgresql://… (query options such as sslmode kept)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class HotReader(Protocol):
    is_open: bool

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def reads(self) -> int:
        """Reads served so far (tests tell the paths apart by it)."""

    async def code_facts_row(self, text: str) -> tuple[Any, ...] | None:
        """FACTS_QUERY's row for a canonical code text, or None."""


def hot_reader_for(database_url: str, *, max_size: int) -> HotReader:
    if database_url.startswith("sqlite"):
        return SqliteReader(make_url(database_url).database or "")
    return PostgresReader(database_url, max_size=max_size)


class PostgresReader:
    """FACTS_QUERY through psycopg's async pool (see the module docstring)."""

    def __init__(self, database_url: str, *, max_size: int, timeout: float = 10.0) -> None:
        self._pool = AsyncConnectionPool(
            libpq_url(database_url),
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            timeout=timeout,
            open=False,
        )
        self.is_open = False

    async def open(self) -> None:
        """Start the pool; it connects in the background (a database that is down now
        only fails the reads that need it, each with the app's 503)."""
        await self._pool.open(wait=False)
        self.is_open = True

    async def close(self) -> None:
        if self.is_open:
            self.is_open = False
            await self._pool.close()

    def reads(self) -> int:
        """Connections handed out so far (psycopg_pool's `requests_num`)."""
        return int(self._pool.get_stats().get("requests_num", 0))

    async def code_facts_row(self, text: str) -> tuple[Any, ...] | None:
        try:
            return await self._read(text)
        except PoolTimeout:
            raise
        except psycopg.OperationalError:
            return await self._read(text)  # once more, on a fresh connection

    async def _read(self, text: str) -> tuple[Any, ...] | None:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(PG_FACTS_SQL, {"text": text})
            row = await cursor.fetchone()
        if row is None:
            return None
        revoked_at = row[_REVOKED_AT]
        if revoked_at is not None:  # as models.UTCDateTime hands it back
            row = (*row[:_REVOKED_AT], revoked_at.astimezone(UTC), *row[_REVOKED_AT + 1 :])
        return tuple(row)


class SqliteReader:
    """FACTS_QUERY on one read-only sqlite3 connection (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self._uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        self._connection: sqlite3.Connection | None = None
        self.is_open = False
        self._reads = 0

    async def open(self) -> None:
        self._connection = sqlite3.connect(self._uri, uri=True, timeout=30, isolation_level=None)
        self._connection.execute("PRAGMA query_only=ON")
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def reads(self) -> int:
        return self._reads

    async def code_facts_row(self, text: str) -> tuple[Any, ...] | None:
        assert self._connection is not None
        self._reads += 1
        row = self._connection.execute(SQLITE_FACTS_SQL, {"text": text}).fetchone()
        if row is None:
            return None
        # As SQLAlchemy's Date and models.UTCDateTime read SQLite's text.
        code_id, product, revoked_at, ends_on, *rest = row
        if revoked_at is not None:
            revoked_at = datetime.fromisoformat(revoked_at).replace(tzinfo=UTC)
        return (code_id, product, revoked_at, date.fromisoformat(ends_on), *rest)
