"""The login lockout both apps share: per (name, source) back-off, a per-name ceiling that
only delays, and the same work for every answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cssec.core.clock import FakeClock
from cssec.web.lockout import (
    LockoutRule,
    LoginThrottle,
    Outcome,
    attempt_login,
    source_of,
)
from cssec.web.security import hash_password

RULE = LockoutRule(max_failures=5, lockout=timedelta(minutes=15))
ATTACKER, OWNER = "127.0.0.2", "127.0.0.1"


def _fail(throttle: LoginThrottle, clock: FakeClock, source: str, n: int = 1) -> int | None:
    wait = None
    for _ in range(n):
        wait = throttle.fail("admin", source, now=clock.now(), rule=RULE).retry_after
    return wait


def test_failures_from_one_address_refuse_only_that_address() -> None:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle()
    assert _fail(throttle, clock, ATTACKER, 4) is None
    assert _fail(throttle, clock, ATTACKER) == 15 * 60
    assert throttle.refused_for("admin", ATTACKER, now=clock.now()) == 15 * 60
    assert throttle.refused_for("admin", OWNER, now=clock.now()) is None
    assert throttle.refused_for("someone-else", ATTACKER, now=clock.now()) is None


def test_the_back_off_doubles_with_each_further_failure_and_has_a_cap() -> None:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle()
    waits = []
    for _ in range(12):
        wait = _fail(throttle, clock, ATTACKER)
        waits.append(wait)
        if wait is not None:
            clock.advance(timedelta(seconds=wait))
    minutes = [w // 60 if w else None for w in waits]
    assert minutes[:8] == [None, None, None, None, 15, 30, 60, 120]
    assert max(w for w in waits if w) == 24 * 3600


def test_a_success_clears_the_address_and_a_quiet_day_forgets_it() -> None:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle()
    _fail(throttle, clock, OWNER, 4)
    throttle.succeed("admin", OWNER)
    assert _fail(throttle, clock, OWNER, 4) is None
    clock.advance(timedelta(hours=25))
    assert _fail(throttle, clock, OWNER, 4) is None


def test_past_the_ceiling_every_failure_delays_but_a_first_attempt_is_checked() -> None:
    """Many addresses guessing one name: each failure then costs its address a delay (one
    guess per address per delay), yet a new address's first attempt is still checked."""
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle()
    for i in range(RULE.ceiling):
        assert _fail(throttle, clock, f"10.0.{i}.1") is None
    assert _fail(throttle, clock, "10.1.0.1") == 30
    assert throttle.refused_for("admin", "10.1.0.1", now=clock.now()) == 30
    assert throttle.refused_for("admin", OWNER, now=clock.now()) is None
    for i in range(RULE.ceiling):
        _fail(throttle, clock, f"10.2.{i}.1")
    assert _fail(throttle, clock, "10.3.0.1") == 60  # doubled past twice the ceiling
    clock.advance(RULE.window + timedelta(seconds=1))
    assert _fail(throttle, clock, "10.4.0.1") is None  # the window has passed


def test_ipv6_addresses_count_per_64() -> None:
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::2")
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_of("testclient") == "testclient"


def test_attempt_login_refuses_the_waiting_address_even_with_the_right_password() -> None:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle()
    stored = hash_password("right password")

    def attempt(source: str, password: str) -> Outcome:
        return attempt_login(
            throttle, "admin", source, stored, password, now=clock.now(), rule=RULE
        ).outcome

    assert [attempt(ATTACKER, "guess") for _ in range(5)] == [Outcome.FAILED] * 5
    assert attempt(ATTACKER, "right password") is Outcome.REFUSED
    assert attempt(OWNER, "right password") is Outcome.SIGNED_IN
    clock.advance(timedelta(minutes=15))
    assert attempt(ATTACKER, "right password") is Outcome.SIGNED_IN
    unknown = attempt_login(throttle, "nobody", OWNER, None, "x", now=clock.now(), rule=RULE)
    assert unknown.outcome is Outcome.FAILED
