"""Migration b2c3d4e5f6a8 (contacts belong to contracts) on a database holding the data of
the round before: customers merged by name, a bulk batch under one customer, a customer's
contact set by staff for one of its contracts. Nobody may reach a contract afterwards that
they could not reach before; where the old data cannot tell whose a contact was, it is
left unset (the contract falls back to its own registration's address, or to none).
SQLite always, PostgreSQL when CSSEC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from sqlalchemy import Engine
from tests.helpers import vendor_migrations as db

BEFORE = "a1b2c3d4e5f7"
THIS = "b2c3d4e5f6a8"


engine = db.empty_database_fixture("cssec_contacts")


def _customer(engine: Engine, cid: int, name: str, contact: str | None, lang: str) -> None:
    db.execute(
        engine,
        "INSERT INTO customers (id, name, contact_email, language, created_at) "
        "VALUES (:id, :name, :contact, :lang, :at)",
        id=cid,
        name=name,
        contact=contact,
        lang=lang,
        at=db.AT,
    )


def _registration(engine: Engine, contract_id: int, server: str, email: str) -> None:
    db.execute(
        engine,
        "INSERT INTO registrations (contract_id, server_id, company, contact_email,"
        " first_at, last_at, count) VALUES (:cid, :server, 'x', :email, :at, :at, 1)",
        cid=contract_id,
        server=server,
        email=email,
        at=db.AT,
    )


def test_contacts_move_onto_contracts_without_widening_access(engine: Engine) -> None:
    db.migrate(engine, BEFORE)
    # One contract, contact and language set: moves as it is.
    _customer(engine, 1, "株式会社ひとつ", "it@hitotsu.example", "en")
    db.add_contract(engine, 10, 1)
    # One contract, no contact: still none (its registration's address, as before).
    _customer(engine, 2, "株式会社とうろく", None, "ja")
    db.add_contract(engine, 20, 2)
    _registration(engine, 20, "srv-20", "reg@touroku.example")
    # Two contracts merged under "C社"; staff set E1's address (as E1 asked) on the
    # customer. E1's own registration gave it: E1 keeps it; E2's contract does not get it.
    _customer(engine, 3, "C社", " E1@Example.co.jp ", "en")
    db.add_contract(engine, 30, 3)
    db.add_contract(engine, 31, 3)
    _registration(engine, 30, "srv-e1", "e1@example.co.jp")
    _registration(engine, 31, "srv-e2", "e2@example.co.jp")
    # A bulk batch under one distributor with the distributor's contact and no
    # registrations: nobody can tell whose each contract is; none (staff set them).
    _customer(engine, 4, "Distributor X", "sales@distributor.example", "ja")
    for contract_id in (40, 41, 42):
        db.add_contract(engine, contract_id, 4)
    # Two contracts, no contact: each keeps its own registration's fallback.
    _customer(engine, 5, "株式会社ふたつ", None, "en")
    db.add_contract(engine, 50, 5)
    db.add_contract(engine, 51, 5)

    db.migrate(engine, THIS)
    contacts = db.select(engine, "SELECT id, contact_email, contact_language FROM contracts")
    assert {row[0]: tuple(row[1:]) for row in contacts} == {
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
    db.migrate(engine, "head")  # the history goes on from here

    # Down again: the customers' columns were never touched.
    db.migrate(engine, BEFORE, down=True)
    kept = dict(db.select(engine, "SELECT id, contact_email FROM customers"))
    assert kept[3] == " E1@Example.co.jp "
    assert "contact_email" not in db.columns(engine, "contracts")
