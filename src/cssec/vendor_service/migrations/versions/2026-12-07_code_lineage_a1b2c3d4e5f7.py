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
then one UPDATE … FROM a window over the table (one sort, one pass; SQLite 3.33+), then
the foreign keys (PostgreSQL: one validation pass) and two indexes. It rewrites every code
row and holds the table until the migration commits: measured with 250,000 codes on a
shared 2-core machine, about 10 s on PostgreSQL and 5-7 s on SQLite, during which status
checks and ActiveUpdate database reads wait (run it in a quiet hour). SQLite adds the columns with ALTER TABLE (no table copy: the table is
referenced by status_checks, and a batch copy would drop it with foreign keys on).

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

_FILL = """
UPDATE activation_codes SET lineage_id = chain.first_id, supersedes_id = chain.previous_id
FROM (
    SELECT id,
           MIN(id) OVER (PARTITION BY contract_id, product) AS first_id,
           LAG(id) OVER (PARTITION BY contract_id, product ORDER BY id) AS previous_id
    FROM activation_codes
) AS chain
WHERE activation_codes.id = chain.id
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in _COLUMNS:
        if sqlite:
            # ALTER TABLE … ADD COLUMN … REFERENCES: SQLite allows it for a NULL default, and
            # Alembic only offers a table copy, which would drop a referenced table.
            op.execute(
                f"ALTER TABLE activation_codes ADD COLUMN {name} INTEGER "
                f"CONSTRAINT {_fk(name)} REFERENCES activation_codes (id)"
            )
        else:
            op.add_column("activation_codes", sa.Column(name, sa.Integer(), nullable=True))
    op.execute(_FILL)
    if not sqlite:  # after the fill: one validation pass instead of a check per row
        for name in _COLUMNS:
            op.create_foreign_key(_fk(name), "activation_codes", "activation_codes", [name], ["id"])
    op.create_index(
        op.f("ix_activation_codes_lineage_id"), "activation_codes", ["lineage_id"], unique=False
    )
    op.create_index(
        op.f("ix_activation_codes_supersedes_id"),
        "activation_codes",
        ["supersedes_id"],
        unique=True,
    )


def _fk(name: str) -> str:
    return str(op.f(f"fk_activation_codes_{name}_activation_codes"))


def downgrade() -> None:
    op.drop_index(op.f("ix_activation_codes_supersedes_id"), table_name="activation_codes")
    op.drop_index(op.f("ix_activation_codes_lineage_id"), table_name="activation_codes")
    if op.get_bind().dialect.name == "sqlite":
        # ALTER TABLE … DROP COLUMN (SQLite 3.35+) takes a column-level REFERENCES with it;
        # a batch copy would drop the table that status_checks references.
        for name in reversed(_COLUMNS):
            op.execute(f"ALTER TABLE activation_codes DROP COLUMN {name}")
        return
    for name in reversed(_COLUMNS):
        op.drop_constraint(_fk(name), "activation_codes", type_="foreignkey")
        op.drop_column("activation_codes", name)
