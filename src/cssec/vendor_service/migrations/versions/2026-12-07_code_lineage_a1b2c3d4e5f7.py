"""Activation codes form lineages: `lineage_id`, `supersedes_id`, `covered_by_id`.

The codes of one contract's product (the first code, reissues, portal-issued codes,
registration's reissue after a renewal) are one lineage, a chain in issue order: each
code supersedes the code of the lineage issued just before it, and revoking a code
revokes every code it superseded (`services.lineage`).

Existing data: every code of one contract and product joins that product's lineage, in
row id order (the order they were issued): the oldest is the first code, each later one
supersedes the one before it. Existing `replaced_by` links always run from an older code
to a newer one of the same contract and product, so each becomes "newer supersedes
older" in the chain (and is kept: registration still reads it). Codes of one contract's
product that no link joins (a reissue after a revocation, say) are chained the same way,
by issue order: the later code was issued to replace the earlier one.

Existing revocations are not widened here: a migration must not cut off a code a
customer runs today without a person deciding it. `cssec vendor code revoke NEWER`, run
again on an already revoked code, lists and revokes the older codes it covers.

Three nullable columns with no default (PostgreSQL: catalog-only, no table rewrite),
then two UPDATEs with correlated subqueries over the contract_id index: one pass over
activation_codes, which takes its rows' locks for that long on a live database (seconds
for a million codes). SQLite adds the columns with ALTER TABLE (no table copy: the table
is referenced by status_checks, and a batch copy would drop it with foreign keys on).

Revision ID: a1b2c3d4e5f7
Revises: c5d6e7f8a9b0
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d4e5f7"
down_revision: str | None = "c5d6e7f8a9b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("lineage_id", "supersedes_id", "covered_by_id")

_FILL_LINEAGE = """
UPDATE activation_codes SET lineage_id = (
    SELECT MIN(first.id) FROM activation_codes AS first
    WHERE first.contract_id = activation_codes.contract_id
      AND first.product = activation_codes.product
)
"""
_FILL_SUPERSEDES = """
UPDATE activation_codes SET supersedes_id = (
    SELECT MAX(older.id) FROM activation_codes AS older
    WHERE older.contract_id = activation_codes.contract_id
      AND older.product = activation_codes.product
      AND older.id < activation_codes.id
)
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in _COLUMNS:
        fk = op.f(f"fk_activation_codes_{name}_activation_codes")
        if sqlite:
            # ALTER TABLE … ADD COLUMN … REFERENCES: SQLite allows it for a NULL default, and
            # Alembic only offers a table copy, which would drop a referenced table.
            op.execute(
                f"ALTER TABLE activation_codes ADD COLUMN {name} INTEGER "
                f"CONSTRAINT {fk} REFERENCES activation_codes (id)"
            )
        else:
            op.add_column("activation_codes", sa.Column(name, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, "activation_codes", "activation_codes", [name], ["id"])
    op.execute(_FILL_LINEAGE)
    op.execute(_FILL_SUPERSEDES)
    op.create_index(
        op.f("ix_activation_codes_lineage_id"), "activation_codes", ["lineage_id"], unique=False
    )
    op.create_index(
        op.f("ix_activation_codes_supersedes_id"),
        "activation_codes",
        ["supersedes_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_activation_codes_supersedes_id"), table_name="activation_codes")
    op.drop_index(op.f("ix_activation_codes_lineage_id"), table_name="activation_codes")
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
