"""Migration b2c3d4e5f6a8 (contacts belong to contracts) on a database holding the data of
the round before: customers merged by name, a bulk batch under one customer, a customer's
contact set by staff for one of its contracts. Nobody may reach a contract afterwards that
they could not reach before; where the old data cannot tell whose a contact was, it is
left unset (the contract falls back to its own registration's address, or to none).
SQLite always, PostgreSQL when CSSEC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from tests.helpers.hostile import postgres_database

from cssec.vendor_service.runtime import MIGRATIONS
from cssec.web.db import make_engine

BEFORE = "a1b2c3d4e5f7"
THIS = "b2c3d4e5f6a8"
AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database (the shared test database is already at head)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+pysqlite:///{tmp_path / 'before.db'}"
        else:
            url = stack.enter_context(postgres_database("cssec_contacts"))
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


def _customer(engine: Engine, cid: int, name: str, contact: str | None, lang: str) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO customers (id, name, contact_email, language, created_at) "
                "VALUES (:id, :name, :contact, :lang, :at)"
            ),
            {"id": cid, "name": name, "contact": contact, "lang": lang, "at": AT},
        )


def _contract(engine: Engine, contract_id: int, customer_id: int) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO contracts (id, customer_id, seats, starts_on, ends_on, created_at,"
                " updated_at) VALUES (:id, :customer, 5, :start, :end, :at, :at)"
            ),
            {
                "id": contract_id,
                "customer": customer_id,
                "start": date(2026, 1, 1),
                "end": date(2026, 12, 31),
                "at": AT,
            },
        )


def _registration(engine: Engine, contract_id: int, server: str, email: str) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO registrations (contract_id, server_id, company, contact_email,"
                " first_at, last_at, count) VALUES (:cid, :server, 'x', :email, :at, :at, 1)"
            ),
            {"cid": contract_id, "server": server, "email": email, "at": AT},
        )


def _contacts(engine: Engine) -> dict[int, tuple[str | None, str]]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, contact_email, contact_language FROM contracts"))
        return {row[0]: (row[1], row[2]) for row in rows}


def test_contacts_move_onto_contracts_without_widening_access(engine: Engine) -> None:
    _migrate(engine, BEFORE)
    # One contract, contact and language set: moves as it is.
    _customer(engine, 1, "株式会社ひとつ", "it@hitotsu.example", "en")
    _contract(engine, 10, 1)
    # One contract, no contact: still none (its registration's address, as before).
    _customer(engine, 2, "株式会社とうろく", None, "ja")
    _contract(engine, 20, 2)
    _registration(engine, 20, "srv-20", "reg@touroku.example")
    # Two contracts merged under "C社"; staff set E1's address (as E1 asked) on the
    # customer. E1's own registration gave it: E1 keeps it; E2's contract does not get it.
    _customer(engine, 3, "C社", " E1@Example.co.jp ", "en")
    _contract(engine, 30, 3)
    _contract(engine, 31, 3)
    _registration(engine, 30, "srv-e1", "e1@example.co.jp")
    _registration(engine, 31, "srv-e2", "e2@example.co.jp")
    # A bulk batch under one distributor with the distributor's contact and no
    # registrations: nobody can tell whose each contract is; none (staff set them).
    _customer(engine, 4, "Distributor X", "sales@distributor.example", "ja")
    for contract_id in (40, 41, 42):
        _contract(engine, contract_id, 4)
    # Two contracts, no contact: each keeps its own registration's fallback.
    _customer(engine, 5, "株式会社ふたつ", None, "en")
    _contract(engine, 50, 5)
    _contract(engine, 51, 5)

    _migrate(engine, THIS)
    assert _contacts(engine) == {
        10: ("it@hitotsu.example", "en"),
        20: (None, "ja"),
        30: ("E1@Example.co.jp", "en"),
        31: (None, "en"),
        40: (None, "ja"),
        41: (None, "ja"),
        42: (None, "ja"),
        50: (None, "en"),
        51: (None, "en"),
    }
    _migrate(engine, "head")  # the history goes on from here

    # Down again: the customers' columns were never touched.
    _migrate(engine, BEFORE, down=True)
    with engine.connect() as c:
        kept = {
            row[0]: row[1] for row in c.execute(text("SELECT id, contact_email FROM customers"))
        }
        columns = c.execute(text("SELECT * FROM contracts")).keys()
    assert kept[3] == " E1@Example.co.jp "
    assert "contact_email" not in columns
