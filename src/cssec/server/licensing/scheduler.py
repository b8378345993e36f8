"""Automatic status checks: an asyncio task in the server process, planned by core.schedule.

Every wake-up asks `plan_checks` what is due for each slot from the stored history
(last success, last attempt), so a restart plans exactly like a wake-up and a check
missed while the server was down or offline is caught up at the next start. The wait is
derived from the injected clock and capped at a minute, so clock jumps and suspends are
noticed (`background.ClockLoop`); tests call `run_due_checks` directly with a FakeClock
and never sleep.

Every tick also looks at what the administrator should hear of (`run_notices`): the seat
count crossing the seats as clients age out of the window, and the license notices
(expiry 90/60/30 days ahead, grace, expired, checks failing in a row). They are decided
and committed first, then mailed; a mail failure is logged and changes nothing else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import Product
from cssec.core.schedule import plan_checks
from cssec.server.background import MAX_WAIT, ClockLoop, Sleep
from cssec.server.clients.seats import refresh_seat_state
from cssec.server.licensing.clockguard import observe_time
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.online_check import CheckOutcome, check_status_online
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseSlot
from cssec.server.notices.license import record_license_notices
from cssec.server.notices.mailer import read_mail_settings
from cssec.server.notices.service import deliver_pending

MAX_RETRY = timedelta(days=1)


@dataclass(frozen=True)
class TickResult:
    outcomes: list[CheckOutcome]
    next_wakeup: datetime


def retry_after(base: timedelta, failures: int) -> timedelta:
    """Back-off after `failures` failed attempts in a row: base, 2x, 4x, … up to a day."""
    if failures <= 1:
        return base
    factor: int = 2 ** min(failures - 1, 16)
    return min(MAX_RETRY, base * factor)


class LicenseScheduler(ClockLoop):
    task_name = "cssec-license-scheduler"
    failure_message = "scheduled license check failed"

    def __init__(
        self,
        env: LicenseEnv,
        *,
        retry_base: timedelta = timedelta(hours=1),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(env.clock, sleep=sleep)
        self.env = env
        self.retry_base = retry_base

    async def run_due_checks(self, now: datetime | None = None) -> TickResult:
        """Run every check that is due at `now` (default: the clock); return when to wake next."""
        now = now or self.env.clock.now()
        due: list[Product] = []
        with self.env.sessionmaker() as session:
            observe_time(session, now)
            slots = session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all()
            plans = {}
            for slot in slots:
                plan = plan_checks(
                    expiry=self._expiry_to_plan(slot, now),
                    tz=self.env.tz,
                    last_success=slot.last_success,
                    last_attempt=slot.last_attempt,
                    now=now,
                    retry_after=retry_after(self.retry_base, slot.consecutive_failures),
                )
                plans[slot.product] = plan
                if plan.run_now:
                    due.append(Product(slot.product))
                failing = slot.last_attempt is not None and (
                    slot.last_success is None or slot.last_attempt > slot.last_success
                )
                if plan.run_now and plan.missed and not failing:
                    _log_catch_up(session, Product(slot.product), plan.missed, now, self.env.tz)
            session.commit()
        outcomes: list[CheckOutcome] = []
        if due:
            outcomes = await check_status_online(self.env, products=due, actor="scheduler")
            with self.env.sessionmaker() as session:
                for slot in session.scalars(select(LicenseSlot)).all():
                    plans[slot.product] = plan_checks(
                        expiry=self._expiry_to_plan(slot, now),
                        tz=self.env.tz,
                        last_success=slot.last_success,
                        last_attempt=slot.last_attempt,
                        now=now,
                        retry_after=retry_after(self.retry_base, slot.consecutive_failures),
                    )
        await self.run_notices(now)
        wakeups = [plan.next_wakeup for plan in plans.values()]
        return TickResult(outcomes=outcomes, next_wakeup=min(wakeups, default=now + MAX_WAIT))

    def _expiry_to_plan(self, slot: LicenseSlot, now: datetime) -> date:
        """The expiry the schedule is planned from. A code never confirmed by the vendor
        (`unconfirmed`: accepted offline on its structure) is checked daily, as after the
        expiry, while a license service is configured: a self-made code claiming 2099 would
        otherwise meet the vendor's signed answer only 90 days before 2099."""
        if slot.confirmed_online or self.env.vendor is None:
            return slot.expires_on
        return min(slot.expires_on, now.astimezone(self.env.tz).date())

    async def run_notices(self, now: datetime | None = None) -> dict[str, str]:
        """Decide and commit the seat crossings and license notices due at `now`, then mail
        every pending notice; returns what the mailing did per notice key."""
        now = now or self.env.clock.now()
        with self.env.sessionmaker() as session:
            refresh_seat_state(session, now=now, window_days=self.env.seat_window_days)
            threshold = read_mail_settings(session).failure_threshold
            record_license_notices(session, now=now, tz=self.env.tz, failure_threshold=threshold)
            session.commit()
        return await deliver_pending(self.env.sessionmaker, self.env.clock)

    async def tick(self) -> datetime:
        return (await self.run_due_checks()).next_wakeup


def _log_catch_up(
    session: Session, product: Product, missed: tuple[datetime, ...], now: datetime, tz: tzinfo
) -> None:
    first = missed[0].astimezone(tz).strftime("%Y-%m-%d %H:%M")
    names = {"ja": product.name_in("ja"), "en": product.name_in("en")}
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="license.check_caught_up",
        message={
            "ja": (
                f"{names['ja']}の定期確認 ({first} 以降の {len(missed)} 回分)が、"
                "サーバの停止またはオフラインのため実行されていませんでした。今から確認します。"
            ),
            "en": (
                f"{len(missed)} scheduled check(s) of {names['en']} since {first} were missed "
                "(server down or offline); checking now."
            ),
        },
        details={"product": product.value, "missed": [m.isoformat() for m in missed]},
    )
