"""When the server asks the vendor for its license status: pure functions of dates and instants.

The FAQ schedules the automatic check at local 00:00 on the days 90, 60, 30 and 0 before
the expiry shown, and loses a check the server was down or offline for. cssec keeps
the same days, adds one the day before the expiry (a renewal made in the last month is
picked up before the banners and mails say "expires today"), a daily check once the
expiry has passed (grace and expired: a
renewal should be noticed the next night, not never), and catches missed checks up with
one check at the next opportunity. Keeping this free of I/O lets a scheduler ask "what
now, and when next?" after every start, wake-up and attempt, and lets tests walk years of
calendars, daylight-saving gaps included, in milliseconds.

Local midnight is taken in the server's zone. Where it does not exist (a daylight-saving
gap that swallows 00:00, as in America/Santiago or Asia/Beirut) the check runs at the
first instant that does; where it exists twice, at the first (fold=0).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

CHECK_DAYS_BEFORE = (90, 60, 30, 1, 0)
"""Days before the expiry shown on which the check runs at local 00:00 (the FAQ's 90/60/30/0,
plus the day before: *beyond*); the last entry must be 0, daily checks follow it."""
MISSED_TOLERANCE = timedelta(minutes=5)
"""A due check later than this was missed (the server was down or offline), not merely late."""
FIRST_CHECK_LOOKBACK = timedelta(days=90)
"""With no recorded success, only the latest scheduled instant this recent is due."""
DEFAULT_RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class CheckPlan:
    """What the scheduler should do now, and when to wake up next.

    `due` are the scheduled instants since the last success up to now; however many, one
    check catches all of them up. `missed` is the part of `due` that is overdue by more
    than the tolerance, worth a line in the system event log. `backoff_until` is set while
    a failed attempt keeps a retry from running, so a vendor outage never turns into a
    busy loop.
    """

    due: tuple[datetime, ...]
    missed: tuple[datetime, ...]
    next_wakeup: datetime
    backoff_until: datetime | None = None

    @property
    def run_now(self) -> bool:
        return bool(self.due) and self.backoff_until is None


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC)


def _check_days(expiry: date, first: date) -> Iterator[date]:
    """Scheduled days from `first` on, in order, without end (daily after the expiry)."""
    for before in CHECK_DAYS_BEFORE[:-1]:
        day = expiry - timedelta(days=before)
        if day >= first:
            yield day
    day = max(first, expiry)
    while True:
        yield day
        day += timedelta(days=1)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant (aware UTC) of 00:00 on `day` in `tz`, or the first instant after it.

    Works with any tzinfo, not only zoneinfo: a missing midnight is detected by a round
    trip through UTC, and the end of the gap is found by bisection over the seconds
    between the two readings of the missing wall time.
    """
    wall = datetime.combine(day, time(0))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In a gap the two folds read the wall time with the offsets on either side of the
    # transition; the transition instant, the first one that exists, lies between them.
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(first, other), max(first, other)
    # Invariant: local(lo) < wall <= local(hi), both as wall-clock readings.
    if lo.astimezone(tz).replace(tzinfo=None) >= wall:
        return lo
    second = timedelta(seconds=1)
    while hi - lo > second:
        mid = lo + (hi - lo) // 2
        mid -= timedelta(microseconds=mid.microsecond)
        if mid <= lo:
            mid = lo + second
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _instants_from(expiry: date, tz: tzinfo, start: datetime) -> Iterator[datetime]:
    """Scheduled instants >= start, strictly increasing.

    Starts a day early because a day's instant can fall after its local date began
    (a gap), and drops repeats, which only a gap longer than a day can cause (Samoa
    skipped 2011-12-30 entirely).
    """
    previous: datetime | None = None
    for day in _check_days(expiry, start.astimezone(tz).date() - timedelta(days=1)):
        instant = local_midnight(day, tz)
        if instant < start or (previous is not None and instant <= previous):
            continue
        previous = instant
        yield instant


def scheduled_instants(
    expiry: date, tz: tzinfo, *, start: datetime, end: datetime
) -> list[datetime]:
    """Every scheduled check instant with start <= instant <= end, aware UTC, ascending."""
    start = _require_aware("start", start)
    end = _require_aware("end", end)
    result: list[datetime] = []
    if end < start:
        return result
    for instant in _instants_from(expiry, tz, start):
        if instant > end:
            break
        result.append(instant)
    return result


def next_instant_after(expiry: date, tz: tzinfo, when: datetime) -> datetime:
    """The first scheduled instant strictly after `when`; one always exists."""
    when = _require_aware("when", when)
    for instant in _instants_from(expiry, tz, when):
        if instant > when:
            return instant
    raise AssertionError("unreachable: checks are daily after the expiry")  # pragma: no cover


def plan_checks(
    *,
    expiry: date,
    tz: tzinfo,
    last_success: datetime | None,
    now: datetime,
    last_attempt: datetime | None = None,
    retry_after: timedelta = DEFAULT_RETRY_AFTER,
    tolerance: timedelta = MISSED_TOLERANCE,
) -> CheckPlan:
    """Decide from the recorded history alone, so a restart plans exactly like a wake-up.

    `last_success` None means no check ever succeeded (the server records one at install,
    so this is rare): then only the latest scheduled instant within the last 90 days is
    due, rather than every instant since the beginning of time. An attempt later than
    the last success is taken as failed; while `last_attempt + retry_after` is still
    ahead, the due checks wait (`run_now` false) and `next_wakeup` is that retry time if
    it comes before the next scheduled instant. An attempt recorded in the future (the
    clock went back) counts as made now, so the back-off never exceeds `retry_after`.
    """
    if retry_after <= timedelta(0):
        raise ValueError("retry_after must be positive, or a failing check would spin")
    now = _require_aware("now", now)
    upcoming = next_instant_after(expiry, tz, now)

    if last_success is None:
        recent = scheduled_instants(expiry, tz, start=now - FIRST_CHECK_LOOKBACK, end=now)
        due = tuple(recent[-1:])
    else:
        last_success = _require_aware("last_success", last_success)
        due = tuple(
            t
            for t in scheduled_instants(expiry, tz, start=last_success, end=now)
            if t > last_success
        )
    missed = tuple(t for t in due if t < now - tolerance)

    backoff_until: datetime | None = None
    if due and last_attempt is not None:
        attempt = min(_require_aware("last_attempt", last_attempt), now)
        failed = last_success is None or attempt > last_success
        if failed and attempt + retry_after > now:
            backoff_until = attempt + retry_after

    next_wakeup = upcoming if backoff_until is None else min(upcoming, backoff_until)
    return CheckPlan(due=due, missed=missed, next_wakeup=next_wakeup, backoff_until=backoff_until)
