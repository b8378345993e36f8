"""Names without an account are locked like an account, in memory only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cssec.server.accounts.auth import UnknownNameLockout

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
RULE = {"max_failures": 5, "lockout": timedelta(minutes=15)}


def test_the_fifth_failure_locks_the_name_until_the_lockout_ends() -> None:
    names = UnknownNameLockout()
    assert [names.fail("root", now=NOW, **RULE) for _ in range(5)] == [False] * 4 + [True]
    assert names.locked_until("root", now=NOW) == NOW + timedelta(minutes=15)
    assert names.locked_until("Root", now=NOW) is None  # matched as the account lookup does
    assert names.locked_until("root", now=NOW + timedelta(minutes=15, seconds=1)) is None


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UnknownNameLockout, "MAX_NAMES", 3)
    names = UnknownNameLockout()
    for name in ("a", "b", "c", "d"):
        names.fail(name, now=NOW, max_failures=1, lockout=timedelta(minutes=1))
    assert names.locked_until("a", now=NOW) is None
    assert all(names.locked_until(n, now=NOW) for n in ("b", "c", "d"))
