"""A publish seen by every vendor node at once, through PostgreSQL's LISTEN/NOTIFY.

Each worker caches the signed ActiveUpdate manifest (`activeupdate.store.ManifestCache`)
and must learn when a publish moved the serial. On one host a marker file does it (its
stat changes after every publish). N nodes on N hosts share only the database, so on
PostgreSQL:

- a publish (`activeupdate.services.publish_component`, the seeding at start) sends
  `NOTIFY cssec_feed, '<serial>'` inside its transaction: PostgreSQL delivers it when,
  and only if, the publish commits;
- every worker keeps one connection that LISTENs on that channel (`FeedWatch`, started by
  the app's lifespan) and bumps `ActiveUpdateStore.feed.generation` on each notification.
  The manifest cache compares that generation, so the next poll on any node re-reads the
  serial and signs the new manifest: no polling delay beyond the notification itself.

While the connection is down (PostgreSQL restarting) `feed.connected` is False and the
cache falls back to re-reading the serial every `feed_recheck_seconds` (a second);
reconnecting bumps the generation, since notifications sent meanwhile were missed. While
it is up, the serial is still re-read every `feed_listen_recheck_seconds` as a safety net
(a connection that died silently). SQLite (one host) keeps the marker file alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from cssec.vendor_service.hotdb import libpq_url

if TYPE_CHECKING:  # activeupdate.services imports this module
    from cssec.vendor_service.activeupdate.store import FeedSignal

log = logging.getLogger(__name__)

CHANNEL = "cssec_feed"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def notify_published(session: Session, serial: int) -> None:
    """Inside a publish's transaction: tell every listening node once it commits
    (PostgreSQL only; SQLite needs nothing, the marker file does it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY, {"channel": CHANNEL, "payload": str(serial)})


class FeedWatch:
    """One LISTEN connection per worker, kept up in the worker's event loop."""

    def __init__(self, database_url: str, signal: FeedSignal, *, retry_seconds: float = 1.0):
        self._conninfo = libpq_url(database_url)
        self.signal = signal
        self.retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening; waits up to `wait` seconds for the first LISTEN (a database
        that is down now only delays it: the cache re-reads the serial meanwhile)."""
        self._task = asyncio.create_task(self._run(), name="cssec-feedwatch")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.signal.connected = False

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as exc:
                log.warning("feed LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self.signal.connected = False
                self._listening.clear()
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            # Whatever was published while not listening: re-read the serial once.
            self.signal.generation += 1
            self.signal.connected = True
            self._listening.set()
            async for _notification in connection.notifies():
                self.signal.generation += 1
