"""Migration a1b2c3d4e5f7 (code lineage) on a database holding the round before's codes:
reissues linked by `replaced_by`, a reissue after a revocation (no link), a second product,
a second contract, and a status check referencing a code (SQLite must not copy the table).
Each contract's product becomes one chain in issue order; no revocation is widened.
SQLite always, PostgreSQL when CSSEC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from tests.helpers import vendor_migrations as db

BEFORE = "c5d6e7f8a9b0"
THIS = "a1b2c3d4e5f7"


engine = db.empty_database_fixture("cssec_lineage")


def _code(
    engine: Engine,
    code_id: int,
    contract: int,
    product: str = "CS",
    *,
    revoked: bool = False,
) -> None:
    db.execute(
        engine,
        "INSERT INTO activation_codes (id, contract_id, product, serial, kid, text, seats,"
        " expires_on, issued_at, revoked_at, revoke_reason, replaced_by) VALUES (:id,"
        " :contract, :product, :id, 1, :text, 5, :end, :at, :revoked, :reason, NULL)",
        id=code_id,
        contract=contract,
        product=product,
        text=f"T{code_id:030d}",
        end=date(2026, 12, 31),
        at=db.AT,
        revoked=db.AT if revoked else None,
        reason="leaked" if revoked else None,
    )


def test_existing_codes_become_lineages_in_issue_order(engine: Engine) -> None:
    db.migrate(engine, BEFORE)
    db.execute(
        engine,
        "INSERT INTO customers (id, name, language, created_at) VALUES (1, 'C', 'ja', :at)",
        at=db.AT,
    )
    db.add_contract(engine, 1, 1)
    db.add_contract(engine, 2, 1)
    # Contract 1, CS: 1 → 3 (replaced_by), 3 revoked, 5 reissued after it (no link).
    # Contract 1, DCS: 2 alone. Contract 2, CS: 4, replaced by 6.
    _code(engine, 1, 1)
    _code(engine, 2, 1, "DCS")
    _code(engine, 3, 1, revoked=True)
    _code(engine, 4, 2)
    _code(engine, 5, 1)
    _code(engine, 6, 2)
    db.execute(engine, "UPDATE activation_codes SET replaced_by = 3 WHERE id = 1")
    db.execute(engine, "UPDATE activation_codes SET replaced_by = 6 WHERE id = 4")
    db.execute(
        engine,
        "INSERT INTO status_checks (activation_code_id, server_id, at, state, contract_end)"
        " VALUES (1, 'srv', :at, 'activated', :end)",
        at=db.AT,
        end=date(2026, 12, 31),
    )

    db.migrate(engine, THIS)
    rows = db.select(
        engine,
        "SELECT id, lineage_id, supersedes_id, covered_by_id, revoked_at IS NOT NULL"
        " FROM activation_codes ORDER BY id",
    )
    assert {row[0]: tuple(row[1:]) for row in rows} == {
        # id: (lineage_id, supersedes_id, covered_by_id, revoked)
        1: (1, None, None, False),
        2: (2, None, None, False),
        3: (1, 1, None, True),  # its replaced_by link from 1, now "3 supersedes 1"
        4: (4, None, None, False),
        5: (1, 3, None, False),  # unlinked, after a revocation: chained by issue order
        6: (4, 4, None, False),
    }
    # Revocations are not widened: 1 stays live although 3, which superseded it, is revoked.
    assert db.select(engine, "SELECT COUNT(*) FROM status_checks") == [(1,)]

    db.migrate(engine, BEFORE, down=True)
    assert "lineage_id" not in db.columns(engine, "activation_codes")
    assert "supersedes_id" not in db.columns(engine, "activation_codes")
