"""The hourly ActiveUpdate poll: an asyncio task in the server process, driven by the clock.

`run_update_if_due(now)` asks nothing of the vendor unless an hour has passed since the
last poll (stored, so a restart does not poll twice and a poll missed while the server was
down runs at the next start); tests call it with a FakeClock and never sleep. The loop
(`background.ClockLoop`) wakes at least once a minute, so clock jumps and suspends are
noticed. The poll, the Web manager's 今すぐアップデート, rollback and the pilot review after a
client's report share one lock: one update at a time per process.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool

from cssec.server.background import ClockLoop, Sleep
from cssec.server.licensing.env import LicenseEnv
from cssec.server.models import ComponentStatus
from cssec.server.updates.pilot import approve, in_pilot, review
from cssec.server.updates.service import UpdateOutcome, rollback_components, update_components

POLL_INTERVAL = timedelta(hours=1)


class ComponentPoller(ClockLoop):
    task_name = "cssec-component-poller"
    failure_message = "scheduled component update failed"

    def __init__(
        self,
        env: LicenseEnv,
        *,
        interval: timedelta = POLL_INTERVAL,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(env.clock, sleep=sleep)
        self.env = env
        self.interval = interval
        self._lock = asyncio.Lock()

    def next_poll(self, now: datetime) -> datetime:
        """When the poll is next due (now, when it never ran or the clock went back)."""
        with self.env.sessionmaker() as session:
            status = session.get(ComponentStatus, 1)
            last = status.last_poll_at if status is not None else None
        if last is None or now < last:
            return now
        return last + self.interval

    async def run_update_if_due(self, now: datetime | None = None) -> UpdateOutcome | None:
        """Poll ActiveUpdate when due at `now` (default: the clock); None when not due."""
        now = now or self.env.clock.now()
        if now < self.next_poll(now):
            return None
        async with self._lock:
            return await update_components(
                self.env, trigger="schedule", actor="scheduler", honour_hold=True
            )

    async def update_now(self, *, actor: str, trigger: str = "manual") -> UpdateOutcome:
        async with self._lock:
            return await update_components(self.env, trigger=trigger, actor=actor)

    async def rollback(self, *, actor: str, trigger: str = "manual") -> UpdateOutcome:
        async with self._lock:
            return rollback_components(self.env, trigger=trigger, actor=actor)

    async def approve_pilot(self, *, actor: str) -> bool:
        """The administrator's approval of the set in pilot (False when none is)."""
        async with self._lock:
            return approve(self.env, actor=actor)

    async def review_pilot(self) -> str | None:
        """The pilot review after a client's report, under the same lock as the poll: a
        rollback it starts never interleaves with an update or another rollback. With no
        set in pilot there is nothing to review, and the report does not wait for an update
        that holds the lock (a download from the vendor may take minutes)."""
        if not await run_in_threadpool(in_pilot, self.env):
            return None
        async with self._lock:
            return await run_in_threadpool(review, self.env)

    async def tick(self) -> datetime:
        async with self._lock:
            review(self.env)  # the pilot group: promote when due, roll back on failures
        await self.run_update_if_due()
        return self.next_poll(self.env.clock.now())
