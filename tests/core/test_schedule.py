"""The status-check schedule: the FAQ's days, daily after expiry, catch-up and back-off."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssec.core.schedule import (
    CHECK_DAYS_BEFORE,
    CheckPlan,
    local_midnight,
    next_instant_after,
    plan_checks,
    scheduled_instants,
)

TOKYO = ZoneInfo("Asia/Tokyo")
ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "America/Santiago",
        "Asia/Tokyo",
    )
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def tokyo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TOKYO).astimezone(UTC)


def local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz)


# --- local midnight -------------------------------------------------------------------


def test_ordinary_midnight() -> None:
    assert local_midnight(date(2025, 6, 30), TOKYO) == utc(2025, 6, 29, 15)


@pytest.mark.parametrize(
    ("zone", "day", "expected_local"),
    [
        # Chile moves clocks from 00:00 to 01:00 on the first Sunday of September.
        ("America/Santiago", date(2022, 9, 11), datetime(2022, 9, 11, 1)),
        ("America/Havana", date(2013, 3, 10), datetime(2013, 3, 10, 1)),
        ("Asia/Beirut", date(2020, 3, 29), datetime(2020, 3, 29, 1)),
        # Samoa skipped 2011-12-30 entirely: the first instant after is the next midnight.
        ("Pacific/Apia", date(2011, 12, 30), datetime(2011, 12, 31, 0)),
    ],
)
def test_missing_midnight_moves_to_the_first_existing_instant(
    zone: str, day: date, expected_local: datetime
) -> None:
    tz = ZoneInfo(zone)
    instant = local_midnight(day, tz)
    assert instant.astimezone(tz).replace(tzinfo=None) == expected_local
    # Nothing exists between the missing midnight and the chosen instant.
    just_before = (instant - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None)
    assert just_before < datetime.combine(day, time(0))


class _HalfHourGap(tzinfo):
    """UTC+0 until 2030-01-01 23:30 UTC, then UTC+1: the wall clock jumps 23:30 -> 00:30."""

    switch = datetime(2030, 1, 1, 23, 30)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        assert dt is not None
        wall = dt.replace(tzinfo=None)
        if wall < self.switch:
            return timedelta(0)
        if wall >= self.switch + timedelta(hours=1):
            return timedelta(hours=1)
        return timedelta(hours=1) if dt.fold else timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "GAP"

    def fromutc(self, dt: datetime) -> datetime:
        wall = dt.replace(tzinfo=None)
        offset = timedelta(0) if wall < self.switch else timedelta(hours=1)
        return (wall + offset).replace(tzinfo=self)


def test_missing_midnight_in_a_gap_that_starts_before_it() -> None:
    # Reading 00:00 with the old offset would give 01:00; the first instant that exists
    # after the missing midnight is the jump itself, shown as 00:30.
    tz = _HalfHourGap()
    instant = local_midnight(date(2030, 1, 2), tz)
    assert instant == utc(2030, 1, 1, 23, 30)
    assert instant.astimezone(tz).replace(tzinfo=None) == datetime(2030, 1, 2, 0, 30)


def test_ambiguous_midnight_takes_the_first() -> None:
    # Cuba fell back from 01:00 to 00:00 on 2006-10-29, so that midnight happened twice.
    tz = ZoneInfo("America/Havana")
    wall = datetime(2006, 10, 29, 0)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    assert second - first == timedelta(hours=1)
    assert local_midnight(wall.date(), tz) == first


def test_fixed_offset_zones_work() -> None:
    tz = timezone(timedelta(hours=9))
    assert local_midnight(date(2025, 6, 30), tz) == utc(2025, 6, 29, 15)


# --- scheduled instants ---------------------------------------------------------------


def test_the_faq_days_then_daily() -> None:
    expiry = date(2025, 6, 30)
    instants = scheduled_instants(
        expiry, TOKYO, start=utc(2025, 1, 1), end=tokyo_midnight(date(2025, 7, 3))
    )
    days = [t.astimezone(TOKYO).date() for t in instants]
    assert days == [
        date(2025, 4, 1),
        date(2025, 5, 1),
        date(2025, 5, 31),
        date(2025, 6, 29),
        date(2025, 6, 30),
        date(2025, 7, 1),
        date(2025, 7, 2),
        date(2025, 7, 3),
    ]
    assert all(t.tzinfo is UTC for t in instants)
    assert all(t.astimezone(TOKYO).time() == time(0) for t in instants)


def test_the_day_before_the_expiry_is_checked_too() -> None:
    """*Beyond* the FAQ: an extra check at 00:00 the day before the expiry, so a renewal made
    in the last month is noticed before the license says "expires today"."""
    assert 1 in CHECK_DAYS_BEFORE
    assert CHECK_DAYS_BEFORE[-1] == 0
    expiry = date(2025, 6, 30)
    after_30 = tokyo_midnight(date(2025, 5, 31))
    assert next_instant_after(expiry, TOKYO, after_30) == tokyo_midnight(date(2025, 6, 29))
    assert next_instant_after(expiry, TOKYO, tokyo_midnight(date(2025, 6, 29))) == (
        tokyo_midnight(expiry)
    )
    result = plan(last_success=after_30, now=tokyo_midnight(date(2025, 6, 29)))
    assert result.due == (tokyo_midnight(date(2025, 6, 29)),)
    assert result.next_wakeup == tokyo_midnight(expiry)


def test_bounds_are_inclusive() -> None:
    at = tokyo_midnight(date(2025, 4, 1))
    assert scheduled_instants(date(2025, 6, 30), TOKYO, start=at, end=at) == [at]
    assert scheduled_instants(date(2025, 6, 30), TOKYO, start=at, end=at - timedelta(1)) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        scheduled_instants(
            date(2025, 6, 30), TOKYO, start=datetime(2025, 1, 1), end=utc(2026, 1, 1)
        )
    with pytest.raises(ValueError, match="aware"):
        plan_checks(expiry=date(2025, 6, 30), tz=TOKYO, last_success=None, now=datetime(2025, 1, 1))


days_st = st.dates(min_value=date(1995, 1, 1), max_value=date(2045, 12, 31))
zones_st = st.sampled_from(ZONES)


def _expected_days(expiry: date, first: date, last: date) -> list[date]:
    days = [expiry - timedelta(days=n) for n in CHECK_DAYS_BEFORE]
    day = expiry + timedelta(days=1)
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return [d for d in days if first <= d <= last]


@settings(max_examples=200, deadline=None)
@given(expiry=days_st, tz=zones_st, lead=st.integers(0, 200), span=st.integers(0, 200))
def test_instants_are_local_midnights_increasing_and_on_the_right_days(
    expiry: date, tz: ZoneInfo, lead: int, span: int
) -> None:
    first_day = expiry - timedelta(days=lead)
    last_day = first_day + timedelta(days=span)
    start = local_midnight(first_day, tz)
    end = local_midnight(last_day, tz)
    instants = scheduled_instants(expiry, tz, start=start, end=end)
    assert all(b > a for a, b in itertools.pairwise(instants))
    assert [t.astimezone(tz).date() for t in instants] == _expected_days(
        expiry, first_day, last_day
    )
    for instant in instants:
        wall = instant.astimezone(tz)
        if wall.time() != time(0):
            midnight = datetime.combine(wall.date(), time(0))
            roundtrip = midnight.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            assert roundtrip.replace(tzinfo=None) != midnight, "midnight existed"
            before = (instant - timedelta(seconds=1)).astimezone(tz)
            assert before.replace(tzinfo=None) < midnight, "not the first instant after"


@settings(max_examples=200, deadline=None)
@given(expiry=days_st, tz=zones_st, offset=st.integers(-400 * 86400, 400 * 86400))
def test_next_instant_is_the_first_after(expiry: date, tz: ZoneInfo, offset: int) -> None:
    now = local_midnight(expiry, tz) + timedelta(seconds=offset)
    nxt = next_instant_after(expiry, tz, now)
    assert nxt > now
    assert scheduled_instants(expiry, tz, start=now, end=nxt - timedelta(microseconds=1)) in (
        [],
        [now],
    )


# --- plan_checks ----------------------------------------------------------------------

EXPIRY = date(2025, 6, 30)


def plan(**kwargs: object) -> CheckPlan:
    return plan_checks(expiry=EXPIRY, tz=TOKYO, **kwargs)  # type: ignore[arg-type]


def test_nothing_due_between_checks() -> None:
    result = plan(last_success=utc(2025, 1, 1), now=utc(2025, 2, 1))
    assert result.due == ()
    assert not result.run_now
    assert result.next_wakeup == tokyo_midnight(date(2025, 4, 1))


def test_on_time_check_is_due_but_not_missed() -> None:
    at = tokyo_midnight(date(2025, 4, 1))
    result = plan(last_success=utc(2025, 1, 1), now=at + timedelta(seconds=3))
    assert result.due == (at,)
    assert result.missed == ()
    assert result.run_now
    assert result.next_wakeup == tokyo_midnight(date(2025, 5, 1))


def test_checks_missed_while_down_are_caught_up_at_once() -> None:
    now = tokyo_midnight(date(2025, 6, 10)) + timedelta(hours=9)
    result = plan(last_success=utc(2025, 1, 1), now=now)
    expected = tuple(
        tokyo_midnight(d) for d in (date(2025, 4, 1), date(2025, 5, 1), date(2025, 5, 31))
    )
    assert result.due == expected
    assert result.missed == expected
    assert result.run_now
    assert result.next_wakeup == tokyo_midnight(date(2025, 6, 29)), "the day before the expiry"


def test_daily_after_expiry() -> None:
    now = tokyo_midnight(date(2025, 8, 1)) + timedelta(hours=1)
    result = plan(last_success=now - timedelta(hours=2), now=now)
    assert result.due == (tokyo_midnight(date(2025, 8, 1)),)
    assert result.next_wakeup == tokyo_midnight(date(2025, 8, 2))


def test_no_success_ever_only_the_latest_recent_instant_is_due() -> None:
    now = tokyo_midnight(date(2025, 6, 10))
    result = plan(last_success=None, now=now)
    assert result.due == (tokyo_midnight(date(2025, 5, 31)),)
    far_before = plan(last_success=None, now=utc(2024, 1, 1))
    assert far_before.due == ()


def test_failed_attempt_backs_off() -> None:
    due_at = tokyo_midnight(date(2025, 4, 1))
    attempt = due_at + timedelta(seconds=1)
    now = attempt + timedelta(minutes=10)
    result = plan(last_success=utc(2025, 1, 1), now=now, last_attempt=attempt)
    assert result.due == (due_at,)
    assert not result.run_now
    assert result.backoff_until == attempt + timedelta(hours=1)
    assert result.next_wakeup == attempt + timedelta(hours=1)

    later = plan(
        last_success=utc(2025, 1, 1), now=attempt + timedelta(hours=1), last_attempt=attempt
    )
    assert later.run_now
    assert later.backoff_until is None
    assert later.next_wakeup == tokyo_midnight(date(2025, 5, 1))


def test_backoff_never_delays_past_the_next_instant() -> None:
    due_at = tokyo_midnight(date(2025, 7, 1))
    nxt = tokyo_midnight(date(2025, 7, 2))
    attempt = nxt - timedelta(minutes=5)
    result = plan(
        last_success=utc(2025, 1, 1),
        now=attempt + timedelta(minutes=1),
        last_attempt=attempt,
        retry_after=timedelta(hours=6),
    )
    assert due_at in result.due
    assert result.next_wakeup == nxt


def test_attempt_before_the_last_success_is_not_a_failure() -> None:
    success = tokyo_midnight(date(2025, 1, 1))
    now = tokyo_midnight(date(2025, 4, 1)) + timedelta(minutes=1)
    result = plan(last_success=success, now=now, last_attempt=success - timedelta(minutes=1))
    assert result.run_now


def test_attempt_in_the_future_backs_off_at_most_retry_after() -> None:
    now = tokyo_midnight(date(2025, 4, 1)) + timedelta(minutes=1)
    result = plan(last_success=utc(2025, 1, 1), now=now, last_attempt=now + timedelta(days=3))
    assert result.backoff_until == now + timedelta(hours=1)


def test_retry_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan(last_success=None, now=utc(2025, 1, 1), retry_after=timedelta(0))


def test_other_offsets_are_normalised_to_utc() -> None:
    now = tokyo_midnight(date(2025, 4, 1)).astimezone(ZoneInfo("America/New_York"))
    result = plan(last_success=utc(2025, 1, 1), now=now + timedelta(seconds=1))
    assert result.due[0].tzinfo is UTC
    assert result.next_wakeup.tzinfo is UTC


moments_st = st.integers(-200 * 86400, 200 * 86400)


@settings(max_examples=300, deadline=None)
@given(
    expiry=days_st,
    tz=zones_st,
    now_offset=moments_st,
    since=st.one_of(st.none(), st.integers(0, 120 * 86400)),
    attempt=st.one_of(st.none(), st.integers(-3 * 86400, 3600)),
    retry_minutes=st.integers(1, 24 * 60),
)
def test_plan_properties(
    expiry: date,
    tz: ZoneInfo,
    now_offset: int,
    since: int | None,
    attempt: int | None,
    retry_minutes: int,
) -> None:
    now = local_midnight(expiry, tz) + timedelta(seconds=now_offset)
    last_success = None if since is None else now - timedelta(seconds=since)
    last_attempt = None if attempt is None else now + timedelta(seconds=attempt)
    retry_after = timedelta(minutes=retry_minutes)
    result = plan_checks(
        expiry=expiry,
        tz=tz,
        last_success=last_success,
        now=now,
        last_attempt=last_attempt,
        retry_after=retry_after,
    )
    assert result.next_wakeup > now
    assert result.next_wakeup <= next_instant_after(expiry, tz, now)
    if last_success is None:
        assert len(result.due) <= 1
        assert all(now - timedelta(days=90) <= t <= now for t in result.due)
    else:
        assert all(last_success < t <= now for t in result.due)
    assert list(result.due) == sorted(set(result.due))
    assert set(result.missed) <= set(result.due)
    assert all(t < now - timedelta(minutes=5) for t in result.missed)
    if last_success is not None:
        assert list(result.due) == [
            t
            for t in scheduled_instants(expiry, tz, start=last_success, end=now)
            if t > last_success
        ]
    if result.backoff_until is not None:
        assert now < result.backoff_until <= now + retry_after
        assert not result.run_now
    # Idempotence: once a check succeeds now, nothing is due any more.
    after = plan_checks(expiry=expiry, tz=tz, last_success=now, now=now, last_attempt=now)
    assert after.due == ()
    assert not after.run_now
    assert after.backoff_until is None


@pytest.mark.parametrize(
    "zone", [*(z.key for z in ZONES), "America/Havana", "Asia/Beirut", "Pacific/Apia"]
)
def test_every_midnight_of_three_decades(zone: str) -> None:
    tz = ZoneInfo(zone)
    day, previous = date(2000, 1, 1), None
    while day < date(2030, 1, 1):
        instant = local_midnight(day, tz)
        wall = instant.astimezone(tz).replace(tzinfo=None)
        midnight = datetime.combine(day, time(0))
        assert wall >= midnight
        assert (instant - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < midnight
        assert previous is None or instant >= previous
        previous = instant
        day += timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(expiry=days_st, tz=zones_st)
def test_the_day_before_check_is_the_last_before_the_expiry(expiry: date, tz: ZoneInfo) -> None:
    thirty = local_midnight(expiry - timedelta(days=30), tz)
    instants = scheduled_instants(expiry, tz, start=thirty, end=local_midnight(expiry, tz))
    days = [t.astimezone(tz).date() for t in instants]
    assert days[-2:] == [expiry - timedelta(days=1), expiry]
    assert days[0] == expiry - timedelta(days=30)
