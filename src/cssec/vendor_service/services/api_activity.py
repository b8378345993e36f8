"""What the admin API writes about its callers, behind their requests: the audit rows of
reads and refusals (api.read, api.refused) and the tokens' last-use times.

A read must not wait for the database's write lock: on SQLite a bulk batch holds it for
the whole batch (one transaction, up to a minute for a million contracts), and a client
polling the batch's progress would otherwise wait, or fail after the busy timeout, on
its own audit row. So requests only queue these rows, and one writer thread per worker
commits them, a batch at a time, in order. Changes are not written here: each use case
writes its audit row inside its own transaction.

Limits, stated: a row is committed a few milliseconds after its answer (the audit reader
`flush`es first, so a caller always finds its own reads); a worker killed outright loses
the rows still queued (at most the last fraction of a second, or the length of a bulk
batch on SQLite).
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cssec.vendor_service.models import ApiToken, AuditEntry

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0
"""The writer thread ends after this long without work (the next row starts it again)."""
BATCH = 500

Item = tuple[str, dict[str, Any]]


class ActivityLog:
    def __init__(self, maker: sessionmaker[Session]) -> None:
        self._maker = maker
        self._queue: queue.Queue[Item] = queue.Queue()
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._queued = 0
        self._written = 0
        self._closed = False

    def audit(
        self, *, at: datetime, actor: str, action: str, target: str, after: dict[str, Any]
    ) -> None:
        row = {"at": at, "actor": actor[:200], "action": action, "target": target[:200],
               "before": None, "after": after}  # fmt: skip
        self._put(("audit", row))

    def touch(self, token_id: int, at: datetime) -> None:
        self._put(("touch", {"id": token_id, "at": at}))

    def flush(self, timeout: float = 60) -> bool:
        """Wait until every row queued so far is committed (True), or `timeout` passed."""
        with self._lock:
            target = self._queued
            return self._lock.wait_for(lambda: self._written >= target, timeout)

    def close(self, timeout: float = 30) -> None:
        """Commit what is queued, then stop (rows offered later are logged, not kept)."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(("stop", {}))  # wakes the writer now, not after IDLE_SECONDS
            thread.join(timeout)

    def _put(self, item: Item) -> None:
        with self._lock:
            if self._closed:
                log.warning("admin API activity after close, not written: %s", item)
                return
            self._queued += 1
            self._queue.put(item)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cssec-api-activity", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty() or self._closed:
                        self._thread = None
                        return
                continue
            if first[0] == "stop":
                with self._lock:
                    self._thread = None
                return
            items = [first]
            while len(items) < BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(items)
            stop = any(kind == "stop" for kind, _row in items)
            with self._lock:
                self._written += len(items) - stop
                self._lock.notify_all()
                if stop:
                    self._thread = None
                    return

    def _write(self, items: list[Item]) -> None:
        rows = [row for kind, row in items if kind == "audit"]
        touched: dict[int, datetime] = {}
        for kind, row in items:
            if kind == "touch":
                touched[row["id"]] = max(row["at"], touched.get(row["id"], row["at"]))
        try:
            with self._maker() as session, session.begin():
                if rows:
                    session.execute(insert(AuditEntry), rows)
                for token_id, at in touched.items():
                    session.execute(
                        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at)
                    )
        except SQLAlchemyError:
            log.exception("admin API activity (%s rows) not written", len(items))
