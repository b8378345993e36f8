"""Background jobs of the server process, driven by the injected clock.

A job (the license checks, the ActiveUpdate poll, the daily log purge) runs what is due,
then waits until its next wake-up, but never less than a second nor more than `MAX_WAIT`,
so clock jumps and suspends are noticed within a minute. A failing tick is logged (to the
job's own module logger) and tried again after `MAX_WAIT`: the loop outlives any one bad
tick (a locked database, a bug). Tests call a job's tick directly with a FakeClock and
never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import ClassVar

from cssec.core.clock import Clock

MAX_WAIT = timedelta(minutes=1)
MIN_WAIT = timedelta(seconds=1)

Sleep = Callable[[float], Awaitable[None]]


def capped_wait(wake: datetime | None, now: datetime) -> float:
    """Seconds to wait from `now` until `wake` (None: as long as allowed), capped both ways."""
    if wake is None:
        return MAX_WAIT.total_seconds()
    delay = (wake - now).total_seconds()
    return min(max(delay, MIN_WAIT.total_seconds()), MAX_WAIT.total_seconds())


class ClockLoop(ABC):
    """One asyncio task that calls `tick` and waits as it says, until `stop`."""

    task_name: ClassVar[str]
    failure_message: ClassVar[str]

    def __init__(self, clock: Clock, *, sleep: Sleep = asyncio.sleep) -> None:
        self._loop_clock = clock
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def tick(self) -> datetime | None:
        """Run what is due now; return when to wake next (None: after `MAX_WAIT`)."""

    async def run_forever(self) -> None:
        log = logging.getLogger(type(self).__module__)
        while True:
            try:
                wake = await self.tick()
            except Exception:
                log.exception(self.failure_message)
                wake = None
            await self._sleep(capped_wait(wake, self._loop_clock.now()))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.run_forever(), name=self.task_name
            )

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
