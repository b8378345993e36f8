"""License slots remember a vendor's signed "invalid" answer (state rejected).

One nullable column added in batch mode: quick on the small license_slots table (two rows
at most), safe on a live database. Existing slots keep NULL: nothing is rejected until the
vendor signs it. The `unconfirmed` state needs no column: it is read from
`confirmed_online`, which every slot already has.

Revision ID: f1e2d3c4b5a7
Revises: d7e8f9a0b1c2
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1e2d3c4b5a7"
down_revision: str | None = "d7e8f9a0b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("license_slots") as batch:
        batch.add_column(sa.Column("rejected_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("license_slots") as batch:
        batch.drop_column("rejected_at")
