"""`LoginThrottle`'s counts in the app's database: shared by every worker process of the
service and kept across restarts (the in-memory throttle gives N workers N times the
guesses, and a restart forgives them all).

The rules and answers are `cssec.web.lockout`'s, unchanged; only where the counts live
differs. Two tables, which each app's models declare with `throttle_tables` and its own
migration creates: `login_throttle_sources`, one row per (name, source) with its failures
and the end of its refusal, and `login_throttle_failures`, one row per failure of a name
within the ceiling's window. Times are UTC epoch seconds.

A failure is counted by one upsert that increments the row (the first statement of its
transaction, so SQLite takes its write lock there and PostgreSQL locks the row): failures
racing from several processes are all counted, none lost to a read-modify-write.
Throttles of different purposes share the tables under a `scope` that is hashed into the
name key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from cssec.web.lockout import (
    LockoutRule,
    LoginAttempt,
    LoginThrottle,
    Outcome,
    _doubled,
    _seconds,
    source_of,
)

SOURCES_TABLE = "login_throttle_sources"
FAILURES_TABLE = "login_throttle_failures"
SOURCE_CHARS = 64


@dataclass(frozen=True)
class ThrottleTables:
    sources: Table
    failures: Table


def throttle_tables(metadata: MetaData) -> ThrottleTables:
    """The two tables, declared on an app's metadata (its migration creates the same)."""
    sources = Table(
        SOURCES_TABLE,
        metadata,
        Column("name_key", String(64), primary_key=True),
        Column("source", String(SOURCE_CHARS), primary_key=True),
        Column("failures", Integer, nullable=False),
        Column("last_failure", Float, nullable=False),
        Column("blocked_until", Float, nullable=True),
    )
    failures = Table(
        FAILURES_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name_key", String(64), nullable=False),
        Column("at", Float, nullable=False),
        Index("ix_login_throttle_failures_name_key_at", "name_key", "at"),
        Index("ix_login_throttle_failures_at", "at"),
    )
    return ThrottleTables(sources, failures)


def _insert(engine: Engine) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE (both spell it alike)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


class DbLoginThrottle(LoginThrottle):
    """A `LoginThrottle` whose counts are rows of `tables` in `engine`'s database."""

    def __init__(self, engine: Engine, tables: ThrottleTables, *, scope: str) -> None:
        super().__init__()
        self.engine = engine
        self.tables = tables
        self.scope = scope
        self._upsert = _insert(engine)

    def _name_key(self, name: str) -> str:
        text = f"{self.scope}\0{name}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(text).hexdigest()

    @staticmethod
    def _source(address: str) -> str:
        return source_of(address)[:SOURCE_CHARS]

    def refused_for(self, name: str, address: str, *, now: datetime) -> int | None:
        sources = self.tables.sources
        with self.engine.connect() as conn:
            until = conn.scalar(
                select(sources.c.blocked_until).where(
                    sources.c.name_key == self._name_key(name),
                    sources.c.source == self._source(address),
                )
            )
        if until is None:
            return None
        end = datetime.fromtimestamp(float(until), UTC)
        return _seconds(end - now) if end > now else None

    def fail(self, name: str, address: str, *, now: datetime, rule: LockoutRule) -> LoginAttempt:
        sources, recent = self.tables.sources, self.tables.failures
        key, source, at = self._name_key(name), self._source(address), now.timestamp()
        forget = at - rule.forget_after.total_seconds()
        upsert = self._upsert(sources).values(
            name_key=key, source=source, failures=1, last_failure=at, blocked_until=None
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=[sources.c.name_key, sources.c.source],
            set_={
                "failures": case(
                    (sources.c.last_failure < forget, 1), else_=sources.c.failures + 1
                ),
                "last_failure": at,
            },
        ).returning(sources.c.failures)
        with self.engine.begin() as conn:
            failures = int(conn.execute(upsert).scalar_one())
            conn.execute(recent.insert().values(name_key=key, at=at))
            window_start = at - rule.window.total_seconds()
            conn.execute(
                delete(recent).where(recent.c.name_key == key, recent.c.at <= window_start)
            )
            in_window = int(
                conn.scalar(
                    select(func.count()).select_from(recent).where(recent.c.name_key == key)
                )
                or 0
            )
            in_window = min(in_window, rule.ceiling * 8)
            wait = timedelta(0)
            locked = failures >= rule.max_failures
            if locked:
                wait = _doubled(rule.lockout, failures - rule.max_failures, rule.max_lockout)
            if in_window > rule.ceiling:
                steps = (in_window - rule.ceiling - 1) // rule.ceiling
                wait = max(wait, _doubled(rule.ceiling_delay, steps, rule.max_ceiling_delay))
            conn.execute(
                update(sources)
                .where(sources.c.name_key == key, sources.c.source == source)
                .values(blocked_until=at + wait.total_seconds() if wait else None)
            )
            self._sweep(conn, at, rule)
        return LoginAttempt(Outcome.FAILED, _seconds(wait) if wait else None, locked)

    def _sweep(self, conn: Any, at: float, rule: LockoutRule) -> None:
        """Forget what no rule can use any more: the table stays as small as the memory one."""
        sources, recent = self.tables.sources, self.tables.failures
        horizon = at - max(rule.forget_after, rule.window).total_seconds()
        conn.execute(delete(recent).where(recent.c.at < horizon))
        conn.execute(
            delete(sources).where(
                sources.c.last_failure < at - rule.forget_after.total_seconds(),
                (sources.c.blocked_until.is_(None)) | (sources.c.blocked_until < at),
            )
        )

    def succeed(self, name: str, address: str) -> None:
        sources = self.tables.sources
        with self.engine.begin() as conn:
            conn.execute(
                delete(sources).where(
                    sources.c.name_key == self._name_key(name),
                    sources.c.source == self._source(address),
                )
            )


__all__ = ["DbLoginThrottle", "ThrottleTables", "throttle_tables"]
