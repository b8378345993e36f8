"""Ring assignment of staged rollouts (`core.rollout`): stable, proportional, monotone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.core.rollout import (
    RolloutRule,
    RolloutRuleError,
    bucket,
    effective_bucket,
    parse_rings,
)

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
IDS = [str(uuid.UUID(int=n * 7919 + 12345)) for n in range(20_000)]


def rule(
    ring: int = 0, *, halted: bool = False, rings: tuple[int, ...] = (1, 10, 50, 100)
) -> RolloutRule:
    return RolloutRule("virus_pattern", 2, 1, rings, START, 6, ring, halted)


@given(st.text(min_size=1, max_size=64))
def test_a_bucket_is_stable_and_in_range(server_id: str) -> None:
    assert bucket(server_id) == bucket(server_id)
    assert 0 <= bucket(server_id) < 100
    for timing in ("early", "standard", "late"):
        assert 0 <= effective_bucket(bucket(server_id), timing) < 100


@pytest.mark.parametrize("percent", [1, 10, 50])
def test_each_ring_admits_its_share_of_the_fleet(percent: int) -> None:
    admitted = sum(bucket(i) < percent for i in IDS) / len(IDS)
    assert abs(admitted - percent / 100) < 0.01 + percent / 1000


@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=30),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(["early", "standard", "late"]),
)
def test_a_server_once_admitted_stays_admitted_as_the_rollout_advances(
    ids: list[str], a: int, b: int, timing: str
) -> None:
    low, high = min(a, b), max(a, b)
    now = START + timedelta(hours=1)
    for server_id in ids:
        place = effective_bucket(bucket(server_id), timing)
        if rule(low).admits(place, now):
            assert rule(high).admits(place, now)
        assert rule(3).admits(place, now), "the last ring (100 %) admits everyone"


def test_early_joins_before_standard_and_late_only_in_the_last_rings() -> None:
    for server_id in IDS[:2000]:
        b = bucket(server_id)
        assert effective_bucket(b, "early") <= b <= effective_bucket(b, "late")
        assert effective_bucket(b, "late") >= 50


def test_full_at_admits_everyone_unless_halted() -> None:
    r = rule(0)
    assert r.full_at == START + timedelta(hours=24)
    assert not r.admits(99.0, r.full_at - timedelta(seconds=1))
    assert r.admits(99.99, r.full_at)
    assert not rule(3, halted=True).admits(0.0, r.full_at + timedelta(days=30))


def test_due_ring_follows_the_schedule() -> None:
    r = rule(0)
    hours = (0, 5, 6, 13, 18, 100)
    assert [r.due_ring(START + timedelta(hours=h)) for h in hours] == [0, 0, 1, 2, 3, 3]


def test_the_rule_round_trips_and_malformed_ones_are_refused() -> None:
    r = rule(2, halted=True)
    assert RolloutRule.from_custom(r.to_custom()) == r
    for broken in (
        None,
        {**r.to_custom(), "rings": [10, 1, 100]},
        {**r.to_custom(), "ring": 9},
        {**r.to_custom(), "step_hours": 0},
        {**r.to_custom(), "started_at": "2026-12-07T09:00:00"},
    ):
        with pytest.raises(RolloutRuleError):
            RolloutRule.from_custom(broken)
    assert parse_rings("1,10,50,100") == (1, 10, 50, 100)
    for text in ("1,10,50", "10,1,100", "0,100", "a,100", ""):
        with pytest.raises(RolloutRuleError):
            parse_rings(text)
