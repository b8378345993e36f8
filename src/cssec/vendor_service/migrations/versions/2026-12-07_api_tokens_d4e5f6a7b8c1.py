"""Admin API tokens and idempotency keys (placeholder until filled).

Revision ID: d4e5f6a7b8c1
Revises: b2c3d4e5f6a8
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "d4e5f6a7b8c1"
down_revision: str | None = "b2c3d4e5f6a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
