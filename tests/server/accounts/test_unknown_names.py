"""Names without an account are counted like an account (`cssec.web.lockout`, in memory
only, as every name is now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cssec.web.lockout import LockoutRule, LoginThrottle

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
RULE = LockoutRule(max_failures=5, lockout=timedelta(minutes=15))
SOURCE = "192.0.2.7"


def test_the_fifth_failure_locks_the_name_until_the_lockout_ends() -> None:
    names = LoginThrottle()
    locks = [names.fail("root", SOURCE, now=NOW, rule=RULE).locked for _ in range(5)]
    assert locks == [False] * 4 + [True]
    assert names.refused_for("root", SOURCE, now=NOW) == 15 * 60
    assert names.refused_for("Root", SOURCE, now=NOW) is None  # matched as the lookup does
    assert names.refused_for("root", SOURCE, now=NOW + timedelta(minutes=15, seconds=1)) is None


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoginThrottle, "MAX_ENTRIES", 3)
    names = LoginThrottle()
    rule = LockoutRule(max_failures=1, lockout=timedelta(minutes=1))
    for name in ("a", "b", "c", "d"):
        names.fail(name, SOURCE, now=NOW, rule=rule)
    assert names.refused_for("a", SOURCE, now=NOW) is None
    assert all(names.refused_for(n, SOURCE, now=NOW) for n in ("b", "c", "d"))
