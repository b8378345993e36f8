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
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

from sqlalchemy import Engine, Table, insert
from sqlalchemy.exc import SQLAlchemyError

from cssec.vendor_service.models import StatusCheck

log = logging.getLogger(__name__)

INSERT_CHECK = insert(cast(Table, StatusCheck.__table__))


class StatusLog:
    """Queued status-check rows (`StatusCheck` column values) and their writer thread."""

    def __init__(
        self, engine: Engine, *, interval: float = 0.25, max_pending: int = 200_000
    ) -> None:
        self._engine = engine
        self.interval = interval
        self.max_pending = max_pending
        self._pending: list[dict[str, Any]] = []
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
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="cssec-status-log", daemon=True
                )
                self._thread.start()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every queued row now, in one transaction; returns how many were written.
        On a database error the rows go back to the front of the queue and it re-raises."""
        with self._write_lock:
            with self._lock:
                rows, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.error("status-check history: %d rows dropped (queue full)", dropped)
            if not rows:
                return 0
            try:
                with self._engine.begin() as connection:
                    connection.execute(INSERT_CHECK, rows)
            except BaseException:
                with self._lock:
                    room = max(0, self.max_pending - len(self._pending))
                    self._dropped += max(0, len(rows) - room)
                    self._pending[:0] = rows[:room]
                raise
            return len(rows)

    def close(self) -> None:
        """Stop the writer and write what is queued (a clean shutdown loses nothing)."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        try:
            self.flush()
        except SQLAlchemyError:
            log.exception("status-check history: rows not written at shutdown")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except SQLAlchemyError:
                log.exception("status-check history: batch not written; will retry")
