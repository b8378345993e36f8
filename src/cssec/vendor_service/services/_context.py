"""How services reach the keyring and the clock, and own their transaction.

Sessions from `Vendor.sessionmaker` carry both in `session.info`; a caller holding a bare
session passes `keys=` / `clock=` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cssec.core.clock import Clock, SystemClock
from cssec.vendor_service.keyring import Keyring

READ_ONLY = "cssec_read_only"
"""Execution option: on SQLite the transaction begins DEFERRED, not IMMEDIATE (see runtime)."""


def keyring_of(session: Session, keys: Keyring | None = None) -> Keyring:
    found = keys if keys is not None else session.info.get("keyring")
    if not isinstance(found, Keyring):
        raise TypeError("no keyring: use Vendor.sessionmaker or pass keys=")
    return found


def clock_of(session: Session, clock: Clock | None = None) -> Clock:
    found = clock if clock is not None else session.info.get("clock")
    return found if found is not None else SystemClock()


def now_utc(session: Session, clock: Clock | None = None) -> datetime:
    return clock_of(session, clock).now()


def today_utc(session: Session, clock: Clock | None = None) -> date:
    """The vendor's "today": the UTC date."""
    return clock_of(session, clock).now().date()


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll it back and re-raise."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def read_transaction(session: Session) -> Iterator[None]:
    """A transaction that only reads, ended when the block ends (committed: loaded objects
    stay usable). On SQLite it begins DEFERRED, so it neither takes nor waits for the write
    lock; it must not write (a deferred WAL reader cannot safely become a writer). Inside a
    transaction the caller already began, it simply runs in that one."""
    if session.in_transaction():
        yield
        return
    session.connection(execution_options={READ_ONLY: True})
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def core_transaction(session: Session, *, read_only: bool = False) -> Iterator[Connection]:
    """A Core connection in a transaction of its own, committed when the block ends (rolled
    back on error), without the ORM session's transaction and unit-of-work machinery: for
    hot paths that run a few Core statements and load no ORM objects. `read_only` begins
    DEFERRED on SQLite, as `read_transaction` does. Inside a transaction the session already
    began, it is the session's connection and the caller's transaction."""
    bind = session.get_bind()
    if session.in_transaction() or isinstance(bind, Connection):
        yield session.connection()
        return
    with bind.connect() as connection:
        if read_only:
            connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection


@contextmanager
def single_read(session: Session) -> Iterator[Connection]:
    """A Core connection for one read-only statement. PostgreSQL: in autocommit, since a
    lone statement is atomic on its own, saving the BEGIN and COMMIT round trips. SQLite:
    a DEFERRED read transaction (`core_transaction(read_only=True)`: switching SQLite's
    isolation level costs more than its local BEGIN). Inside a transaction the session
    already began, it is the session's connection and the caller's transaction."""
    bind = session.get_bind()
    if (
        session.in_transaction()
        or isinstance(bind, Connection)
        or bind.dialect.name != "postgresql"
    ):
        with core_transaction(session, read_only=True) as connection:
            yield connection
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection
