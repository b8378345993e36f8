"""The vendor's scheduled work: the notices due today, then the outbox deliveries due now.

`run_scheduled_work` is one pass, what `cssec vendor notices run` does for cron users.
`BackgroundJobs` runs it in a thread of each `serve` process (started and stopped by
the app's lifespan): at start, so a restarted vendor picks its pending messages up at
once, then every `background_interval` seconds, and at once when a service queued a
message (its transaction's commit wakes the thread). What is due is decided by the
injected clock; several processes (workers, hosts, a cron job beside `serve`) run it
side by side without sending anything twice (see `services.notices` and
`services.outbox`).

A thread, not an asyncio task: delivery blocks on the network (a webhook endpoint may
take `webhook_timeout` to answer), and the request threads stay free for the API.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from cssec.vendor_service.mailer import smtp_config
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.sender import Delivery, deliver_all_due
from cssec.vendor_service.services.notices import PlannedNotice, plan_notices
from cssec.vendor_service.services.outbox import WAKEUP

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkDone:
    notices: list[PlannedNotice]
    deliveries: list[Delivery]
    rollouts: list[str] = field(default_factory=list)


def run_scheduled_work(vendor: Vendor) -> WorkDone:
    """Plan today's notices (committed), move the staged rollouts along (or halt them on
    failing health: `activeupdate.rollout_service`), then deliver every message that is due."""
    from cssec.vendor_service.activeupdate.rollout_service import (  # noqa: PLC0415
        advance_rollouts,
    )

    with vendor.session() as session:
        notices = plan_notices(session, mail=smtp_config(vendor.settings) is not None)
    with vendor.session() as session:
        rollouts = advance_rollouts(session)
    return WorkDone(notices=notices, deliveries=deliver_all_due(vendor), rollouts=rollouts)


class BackgroundJobs:
    """`run_scheduled_work` in a daemon thread until `stop`."""

    def __init__(self, vendor: Vendor, *, interval: float | None = None) -> None:
        self.vendor = vendor
        self.interval = interval if interval is not None else vendor.settings.background_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def wake(self) -> None:
        """Run again now (thread-safe; what an outbox commit calls)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        info = dict(self.vendor.sessionmaker.kw.get("info") or {})
        info[WAKEUP] = self.wake
        self.vendor.sessionmaker.configure(info=info)
        self._thread = threading.Thread(target=self._run, name="cssec-vendor-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                run_scheduled_work(self.vendor)
            except Exception:  # the loop outlives a bad pass (database down, a bug)
                log.exception("scheduled notices / outbox delivery failed")
            self.runs += 1
            self._wake.wait(self.interval)
