"""A vendor migration tried on a database holding the data of the round before: a fresh
database (SQLite always, PostgreSQL when CSSEC_TEST_POSTGRES_URL is set; the shared test
database is already at head), brought to the revision before, seeded with plain SQL as
that round's code wrote it, migrated, and read back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from tests.helpers.hostile import postgres_database

from cssec.vendor_service.runtime import MIGRATIONS
from cssec.web.db import make_engine

AT = datetime(2026, 12, 1, tzinfo=UTC)
"""When every seeded row was written."""


def empty_database_fixture(prefix: str) -> Any:
    """A fixture `engine`: an empty database, once on SQLite and once on PostgreSQL (a
    throwaway one named after `prefix`). A test module takes it as
    `engine = empty_database_fixture("cssec_this")`."""

    @pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
    def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
        with contextlib.ExitStack() as stack:
            if request.param == "sqlite":
                url = f"sqlite+pysqlite:///{tmp_path / 'before.db'}"
            else:
                url = stack.enter_context(postgres_database(prefix))
            made = make_engine(url)
            stack.callback(made.dispose)
            yield made

    return engine


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with `down`, downgrade) the vendor's schema to `revision`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def execute(engine: Engine, sql: str, **values: Any) -> None:
    """One statement of seed data, committed."""
    with engine.begin() as connection:
        connection.execute(text(sql), values)


def select(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one query, as tuples."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def columns(engine: Engine, table: str) -> set[str]:
    """The column names `table` has now."""
    with engine.connect() as connection:
        return set(connection.execute(text(f"SELECT * FROM {table}")).keys())


def add_contract(engine: Engine, contract_id: int, customer_id: int) -> None:
    """A 5-seat contract for 2026, as the rounds before wrote one."""
    execute(
        engine,
        "INSERT INTO contracts (id, customer_id, seats, starts_on, ends_on, created_at,"
        " updated_at) VALUES (:id, :customer, 5, :start, :end, :at, :at)",
        id=contract_id,
        customer=customer_id,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        at=AT,
    )
