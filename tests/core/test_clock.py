"""The clock: time enters only here, and tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cssec.core.clock import Clock, FakeClock, SystemClock, local_today, zone

START = datetime(2025, 6, 30, 14, 59, 59, tzinfo=UTC)


def test_fake_clock_stands_still_until_moved() -> None:
    clock = FakeClock(START)
    assert clock.now() == START
    assert clock.now() == START


def test_advance() -> None:
    clock = FakeClock(START)
    clock.advance(timedelta(days=31, seconds=1))
    assert clock.now() == START + timedelta(days=31, seconds=1)
    clock.advance(timedelta(hours=-1))
    assert clock.now() == START + timedelta(days=31, seconds=1, hours=-1)


def test_set_normalises_to_utc() -> None:
    clock = FakeClock(START)
    clock.set(datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.now().tzinfo is UTC


def test_start_is_normalised_to_utc() -> None:
    clock = FakeClock(datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))))
    assert clock.now() == datetime(2025, 1, 1, 17, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2025, 1, 1))
    clock = FakeClock(START)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2025, 1, 1))
    assert clock.now() == START


def test_local_today_across_a_time_zone_boundary() -> None:
    # 14:59:59 UTC is 23:59:59 in Tokyo: one second later Tokyo's day turns, London's not.
    clock = FakeClock(START)
    tokyo, london = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/London")
    assert local_today(clock, tokyo) == date(2025, 6, 30)
    assert local_today(clock, london) == date(2025, 6, 30)
    clock.advance(timedelta(seconds=1))
    assert local_today(clock, tokyo) == date(2025, 7, 1)
    assert local_today(clock, london) == date(2025, 6, 30)
    # West of UTC, the date lags behind.
    assert local_today(clock, ZoneInfo("America/Los_Angeles")) == date(2025, 6, 30)
    clock.set(datetime(2025, 7, 1, 6, 59, tzinfo=UTC))
    assert local_today(clock, ZoneInfo("America/Los_Angeles")) == date(2025, 6, 30)
    clock.advance(timedelta(minutes=1))
    assert local_today(clock, ZoneInfo("America/Los_Angeles")) == date(2025, 7, 1)


def test_system_clock_is_aware_utc() -> None:
    clock: Clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_fake_clock_satisfies_the_protocol() -> None:
    clock: Clock = FakeClock(START)
    assert local_today(clock, UTC) == date(2025, 6, 30)


def test_zone_by_name_and_default() -> None:
    assert zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    for default in (None, ""):
        local = zone(default)
        assert datetime(2025, 1, 1, tzinfo=local).utcoffset() is not None


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(KeyError):
        zone("Mars/Olympus_Mons")
