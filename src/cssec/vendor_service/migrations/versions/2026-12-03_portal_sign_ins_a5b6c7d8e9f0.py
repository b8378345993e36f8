"""Customer portal: portal_sign_ins, the e-mailed sign-in links and the sessions they open.

A new table only: safe on a live database (nothing existing is rewritten or locked).

Revision ID: a5b6c7d8e9f0
Revises: f4d5e6f7a8b9
Create Date: 2026-12-03 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5b6c7d8e9f0"
down_revision: str | None = "f4d5e6f7a8b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_portal_sign_ins_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_portal_sign_ins_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sign_ins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sign_ins_token_hash")),
    )
    op.create_index(
        op.f("ix_portal_sign_ins_created_at"), "portal_sign_ins", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_portal_sign_ins_customer_id"), "portal_sign_ins", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_sign_ins_customer_id"), table_name="portal_sign_ins")
    op.drop_index(op.f("ix_portal_sign_ins_created_at"), table_name="portal_sign_ins")
    op.drop_table("portal_sign_ins")
