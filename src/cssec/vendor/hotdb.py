"""The hot paths' one PostgreSQL read, in the event loop, without SQLAlchemy.

Every status check and every ActiveUpdate poll that misses the entitlement cache reads one
row: a code's facts (`services.status.FACTS_QUERY`). Through SQLAlchemy in the thread pool
that read cost about 230 µs of the worker's CPU; with psycopg's async connection in the
event loop, about 80 µs (same query, same machine, 32 concurrent readers; see
docs/performance.md). The query is the same SQLAlchemy statement, compiled once for
psycopg; the row goes through the same verdict (`services.status.code_facts_from_row`).
SQLite needs none of this: its reads are local and run inline (`cssec.vendor.api.hot`).

The pool (psycopg_pool) is opened and closed by the app's lifespan, in the worker's own
loop, with connections in autocommit (one statement each: no BEGIN or COMMIT round trips)
and at most `max_size` of them (setting `hot_pool_size`). Without a lifespan (an app
driven without one, as some tests do) the handlers take the synchronous path. A read on a
connection that turns out to be dead (PostgreSQL restarted) is retried once on a fresh
one, as `Vendor.retrying` does for the synchronous paths; other errors
(psycopg.OperationalError, including the pool's timeout) reach the app's 503 handler.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import make_url

from cssec.vendor.services.status import FACTS_QUERY

_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]
FACTS_SQL = str(FACTS_QUERY.compile(dialect=_DIALECT))
_REVOKED_AT = 2  # FACTS_QUERY's revoked_at column


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://… → postgresql://… (query options such as sslmode kept)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class HotReader:
    """`code_facts_row(text)`: FACTS_QUERY's row for a canonical code text, or None.

    Usable between `open()` and `close()`, which the app's lifespan calls in the worker's
    event loop (a psycopg pool belongs to the loop that opened it); `is_open` tells the
    handlers whether to use it or the synchronous path."""

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
            cursor = await connection.execute(FACTS_SQL, {"text": text})
            row = await cursor.fetchone()
        if row is None:
            return None
        revoked_at = row[_REVOKED_AT]
        if revoked_at is not None:  # as models.UTCDateTime hands it back
            row = (*row[:_REVOKED_AT], revoked_at.astimezone(UTC), *row[_REVOKED_AT + 1 :])
        return tuple(row)
