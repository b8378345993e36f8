"""`DbLoginThrottle`: the same answers as the in-memory throttle, failures racing from
several connections all counted, and the counts kept by a new throttle on the same
database (a restart). SQLite always; PostgreSQL when CSSEC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData
from tests.helpers.hostile import postgres_database

from cssec.web.db import make_engine, sqlite_url
from cssec.web.lockout import LockoutRule, LoginThrottle
from cssec.web.lockout_db import DbLoginThrottle, ThrottleTables, throttle_tables

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
RULE = LockoutRule(max_failures=3, lockout=timedelta(minutes=1), ceiling=5)


def _tables() -> tuple[MetaData, ThrottleTables]:
    metadata = MetaData()
    return metadata, throttle_tables(metadata)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(sqlite_url(tmp_path / "throttle.db"))
        yield made
        made.dispose()
        return
    with postgres_database("cssec_throttle") as url:
        made = make_engine(url)
        yield made
        made.dispose()


def _throttle(engine: Engine, scope: str = "test") -> DbLoginThrottle:
    metadata, tables = _tables()
    metadata.create_all(engine)
    return DbLoginThrottle(engine, tables, scope=scope)


def test_failures_racing_from_many_connections_are_all_counted(engine: Engine) -> None:
    throttle = _throttle(engine)
    racers, each = 4, 5
    start = threading.Barrier(racers)

    def guess() -> None:
        start.wait()
        for _ in range(each):
            throttle.fail("admin", "192.0.2.7", now=START, rule=LockoutRule(max_failures=1000))

    threads = [threading.Thread(target=guess) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = throttle.fail("admin", "192.0.2.7", now=START, rule=LockoutRule(max_failures=21))
    assert last.locked, "all 20 racing failures were counted: the 21st locks"


def test_a_new_throttle_on_the_same_database_keeps_the_lock(engine: Engine) -> None:
    first = _throttle(engine)
    for _ in range(3):
        first.fail("admin", "192.0.2.7", now=START, rule=RULE)
    assert first.refused_for("admin", "192.0.2.7", now=START) == 60
    restarted = _throttle(engine)
    assert restarted.refused_for("admin", "192.0.2.7", now=START + timedelta(seconds=30)) == 30
    assert restarted.refused_for("admin", "192.0.2.8", now=START) is None, "per source"
    other = _throttle(engine, scope="other")
    assert other.refused_for("admin", "192.0.2.7", now=START) is None, "per scope"
    restarted.succeed("admin", "192.0.2.7")
    assert first.refused_for("admin", "192.0.2.7", now=START) is None


_STEP = st.tuples(
    st.sampled_from(["fail", "succeed"]),
    st.sampled_from(["admin", "bob"]),
    st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"]),
    st.integers(min_value=0, max_value=4000),
)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(_STEP, max_size=30))
def test_the_same_answers_as_the_memory_throttle(
    steps: list[tuple[str, str, str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = make_engine(sqlite_url(tmp_path_factory.mktemp("parity") / "throttle.db"))
    try:
        stored, memory = _throttle(engine), LoginThrottle()
        now = START
        for action, name, address, seconds in steps:
            now += timedelta(seconds=seconds)
            if action == "succeed":
                stored.succeed(name, address)
                memory.succeed(name, address)
            else:
                assert stored.fail(name, address, now=now, rule=RULE) == memory.fail(
                    name, address, now=now, rule=RULE
                )
            for who in ("admin", "bob"):
                assert stored.refused_for(who, address, now=now) == memory.refused_for(
                    who, address, now=now
                )
    finally:
        engine.dispose()
