"""Migration a1b2c3d4e5f7 (code lineage) on a database holding the round before's codes:
reissues linked by `replaced_by`, a reissue after a revocation (no link), a second product,
a second contract, and a status check referencing a code (SQLite must not copy the table).
Each contract's product becomes one chain in issue order; no revocation is widened.
SQLite always, PostgreSQL when CSSEC_TEST_POSTGRES_URL is set."""

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

BEFORE = "c5d6e7f8a9b0"
THIS = "a1b2c3d4e5f7"
AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+pysqlite:///{tmp_path / 'before.db'}"
        else:
            url = stack.enter_context(postgres_database("cssec_lineage"))
        made = make_engine(url)
        stack.callback(made.dispose)
        yield made


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def _insert(engine: Engine, sql: str, **values: Any) -> None:
    with engine.begin() as c:
        c.execute(text(sql), values)


def _code(
    engine: Engine,
    code_id: int,
    contract: int,
    product: str = "CS",
    *,
    replaced_by: int | None = None,
    revoked: bool = False,
) -> None:
    _insert(
        engine,
        "INSERT INTO activation_codes (id, contract_id, product, serial, kid, text, seats,"
        " expires_on, issued_at, revoked_at, revoke_reason, replaced_by) VALUES (:id,"
        " :contract, :product, :id, 1, :text, 5, :end, :at, :revoked, :reason, :replaced)",
        id=code_id,
        contract=contract,
        product=product,
        text=f"T{code_id:030d}",
        end=date(2026, 12, 31),
        at=AT,
        revoked=AT if revoked else None,
        reason="leaked" if revoked else None,
        replaced=replaced_by,
    )


def _rows(engine: Engine) -> dict[int, tuple[Any, ...]]:
    with engine.connect() as c:
        result = c.execute(
            text(
                "SELECT id, lineage_id, supersedes_id, covered_by_id, revoked_at IS NOT NULL"
                " FROM activation_codes ORDER BY id"
            )
        )
        return {row[0]: tuple(row[1:]) for row in result}


def test_existing_codes_become_lineages_in_issue_order(engine: Engine) -> None:
    _migrate(engine, BEFORE)
    _insert(
        engine,
        "INSERT INTO customers (id, name, language, created_at) VALUES (1, 'C', 'ja', :at)",
        at=AT,
    )
    for contract in (1, 2):
        _insert(
            engine,
            "INSERT INTO contracts (id, customer_id, seats, starts_on, ends_on, created_at,"
            " updated_at) VALUES (:id, 1, 5, :start, :end, :at, :at)",
            id=contract,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            at=AT,
        )
    # Contract 1, CS: 1 → 3 (replaced_by), 3 revoked, 5 reissued after it (no link).
    # Contract 1, DCS: 2 alone. Contract 2, CS: 4, replaced by 6.
    _code(engine, 1, 1, replaced_by=None)
    _code(engine, 2, 1, "DCS")
    _code(engine, 3, 1, revoked=True)
    _code(engine, 4, 2)
    _code(engine, 5, 1)
    _code(engine, 6, 2)
    _insert(engine, "UPDATE activation_codes SET replaced_by = 3 WHERE id = 1")
    _insert(engine, "UPDATE activation_codes SET replaced_by = 6 WHERE id = 4")
    _insert(
        engine,
        "INSERT INTO status_checks (activation_code_id, server_id, at, state, contract_end)"
        " VALUES (1, 'srv', :at, 'activated', :end)",
        at=AT,
        end=date(2026, 12, 31),
    )

    _migrate(engine, THIS)
    assert _rows(engine) == {
        # id: (lineage_id, supersedes_id, covered_by_id, revoked)
        1: (1, None, None, False),
        2: (2, None, None, False),
        3: (1, 1, None, True),  # its replaced_by link from 1, now "3 supersedes 1"
        4: (4, None, None, False),
        5: (1, 3, None, False),  # unlinked, after a revocation: chained by issue order
        6: (4, 4, None, False),
    }
    # Revocations are not widened: 1 stays live although 3, which superseded it, is revoked.
    with engine.connect() as c:
        checks = c.execute(text("SELECT COUNT(*) FROM status_checks")).scalar_one()
    assert checks == 1

    _migrate(engine, BEFORE, down=True)
    with engine.connect() as c:
        columns = c.execute(text("SELECT * FROM activation_codes")).keys()
    assert "lineage_id" not in columns
    assert "supersedes_id" not in columns
