"""Activation codes form lineages (placeholder until filled).

Revision ID: a1b2c3d4e5f7
Revises: c5d6e7f8a9b0
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "a1b2c3d4e5f7"
down_revision: str | None = "c5d6e7f8a9b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
