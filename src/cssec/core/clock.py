"""The only way time enters cssec.

Everything that needs "now" takes a `Clock`. Production code uses `SystemClock`;
tests use `FakeClock` and move it across expiry and grace instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def local_today(clock: Clock, tz: tzinfo) -> date:
    """Today's calendar date in `tz`: license days are calendar days where the server stands."""
    return clock.now().astimezone(tz).date()


def zone(name: str | None) -> tzinfo:
    """A time zone by IANA name; None or "" means the system's local zone."""
    if name:
        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local
