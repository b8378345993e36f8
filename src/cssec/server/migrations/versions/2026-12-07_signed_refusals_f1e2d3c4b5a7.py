"""Slots remember a vendor's signed refusal (placeholder until filled).

Revision ID: f1e2d3c4b5a7
Revises: d7e8f9a0b1c2
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "f1e2d3c4b5a7"
down_revision: str | None = "d7e8f9a0b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
