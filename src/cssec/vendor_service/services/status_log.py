"""The status-check history, written behind the answer in batches.

Every `POST /api/v1/status` records a row (which server asked about which code, when, and
what it was told). Writing it inside the request costs a write transaction per check:
on SQLite the database-wide write lock, taken by both workers for every request, on
PostgreSQL a commit per request. `StatusLog` queues the rows in memory and one thread per
process inserts them in batches, one transaction every `interval` seconds (a quarter of a
second by default), so a status check itself only reads.

What that trades, stated plainly: the history lags the answers by up to `interval`, and a
process killed outright (SIGKILL, power loss) loses the rows of its last interval. The
answer itself is never affected (it is signed and sent either way), nothing else is
written here, and the server's license never depends on this history; a clean shutdown
(`close`) writes everything. A failed batch (database down) stays queued and is retried
on the next tick; past `max_pending` rows the newest are counted and dropped with one log
line per tick, so an outage cannot exhaust memory.

Durable mode (`durable=True`, setting `status_log_durable`, for N nodes behind a load
balancer where a node may be killed): the writer wakes as soon as a row is queued and
writes whatever is queued then in one transaction (group commit), and the request waits
for that commit (`committed`) before it answers. A node killed outright then loses no row
of an answered check. A check whose row was committed but whose answer never left the
node is answered again by another node (the balancer retries it) with the same request id
(nginx's X-Request-Id, `StatusCheck.request_id`, unique): its second row is skipped
(`insert_checks`). A failed batch is not retried: its requests fail (503) and their rows
are dropped, so the history holds exactly the answered checks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any, cast

from sqlalchemy import Connection, Engine, Executable, Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from cssec.core.clock import Clock
from cssec.vendor_service.models import StatusCheck
from cssec.vendor_service.services.seat_watch import note_seat_reports

log = logging.getLogger(__name__)

INSERT_CHECK = insert(cast(Table, StatusCheck.__table__))
_CHECKS = cast(Table, StatusCheck.__table__)
# A check nginx retried on another node comes with the same request id: written once.
_INSERT_ONCE = {
    "postgresql": pg_insert(_CHECKS).on_conflict_do_nothing(index_elements=["request_id"]),
    "sqlite": sqlite_insert(_CHECKS).on_conflict_do_nothing(index_elements=["request_id"]),
}


def insert_checks(connection: Connection) -> Executable:
    """The batch insert for this database: a row whose request_id is already written is
    skipped (rows without one are all written)."""
    return _INSERT_ONCE.get(connection.dialect.name, INSERT_CHECK)


class StatusLog:
    """Queued status-check rows (`StatusCheck` column values) and their writer thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 0.25,
        max_pending: int = 200_000,
        durable: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._engine = engine
        self.clock = clock
        """With a clock, each batch's seat reports are watched (`watch_seats`)."""
        self.interval = interval
        self.max_pending = max_pending
        self.durable = durable
        self._pending: list[dict[str, Any]] = []
        # Durable mode: rows queued so far, rows whose batch has ended (committed or failed),
        # and the futures waiting for a count of them.
        self._queued = 0
        self._done = 0
        self._waiters: list[tuple[int, Future[None]]] = []
        self._wake = threading.Event()
        self._dropped = 0
        self._lock = threading.Lock()  # guards _pending, _dropped and _thread
        self._write_lock = threading.Lock()  # one batch at a time (tick, flush, close)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, row: dict[str, Any]) -> None:
        """Queue one row; the writer thread starts with the first one."""
        with self._lock:
            if len(self._pending) >= self.max_pending:
                self._dropped += 1
                return
            self._pending.append(row)
            self._queued += 1
            if self.durable:
                self._wake.set()
            if self._thread is None and not self._stop.is_set():
                self._start_writer()

    def _start_writer(self) -> None:
        """(Under `_lock`.)"""
        self._thread = threading.Thread(target=self._run, name="cssec-status-log", daemon=True)
        self._thread.start()

    def barrier(self) -> Future[None] | None:
        """Durable mode: a future resolved once every row queued so far is committed (or
        failed with the batch's error); None otherwise (nothing to wait for)."""
        if not self.durable:
            return None
        waiter: Future[None] = Future()
        with self._lock:
            if self._done >= self._queued:
                waiter.set_result(None)
                return waiter
            self._waiters.append((self._queued, waiter))
            if self._thread is None and not self._stop.is_set():
                self._start_writer()
        self._wake.set()
        return waiter

    async def committed(self) -> None:
        """Durable mode: wait (without blocking the event loop) until the rows queued so
        far are committed; re-raises the batch's database error. Else returns at once."""
        waiter = self.barrier()
        if waiter is not None:
            await asyncio.wrap_future(waiter)

    def wait_committed(self) -> None:
        """`committed` for a thread (the synchronous routes)."""
        waiter = self.barrier()
        if waiter is not None:
            waiter.result()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every queued row now, in one transaction; returns how many were written.
        On a database error the rows go back to the front of the queue and it re-raises."""
        with self._write_lock:
            with self._lock:
                rows, self._pending = self._pending, []
                end = self._queued  # durable: every queued row is in this batch
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.error("status-check history: %d rows dropped (queue full)", dropped)
            if not rows:
                self._batch_ended(end, None)
                return 0
            try:
                with self._engine.begin() as connection:
                    if self.clock is not None:
                        watch_seats(connection, rows, self.clock)
                    connection.execute(insert_checks(connection), rows)
            except BaseException as exc:
                if self.durable:  # their requests fail instead: the rows go
                    self._batch_ended(end, exc)
                    raise
                with self._lock:
                    room = max(0, self.max_pending - len(self._pending))
                    self._dropped += max(0, len(rows) - room)
                    self._pending[:0] = rows[:room]
                raise
            self._batch_ended(end, None)
            return len(rows)

    def _batch_ended(self, end: int, error: BaseException | None) -> None:
        with self._lock:
            self._done = max(self._done, end)
            ready = [w for target, w in self._waiters if target <= end]
            self._waiters = [(t, w) for t, w in self._waiters if t > end]
        _resolve(ready, error)

    def close(self) -> None:
        """Stop the writer and write what is queued (a clean shutdown loses nothing)."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        try:
            self.flush()
        except SQLAlchemyError:
            log.exception("status-check history: rows not written at shutdown")

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.durable:
                self._wake.wait(self.interval)
                self._wake.clear()
            elif self._stop.wait(self.interval):
                break
            try:
                self.flush()
            except SQLAlchemyError:
                log.exception("status-check history: batch not written; will retry")


def _resolve(waiters: list[Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)


def watch_seats(connection: Connection, rows: list[dict[str, Any]], clock: Clock) -> None:
    """`seat_watch.note_seat_reports` for rows about to be inserted, in a savepoint: a
    failure is logged and rolled back alone, the rows are written anyway."""
    try:
        with connection.begin_nested():
            note_seat_reports(connection, rows, clock=clock)
    except SQLAlchemyError:
        log.exception("status-check history: seat usage of a batch not evaluated")
