"""Staged rollouts of components and the servers' health reports (issue 24).

Revision ID: e6f7a8b9c0d3
Revises: d4e5f6a7b8c1
Create Date: 2026-12-07 22:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "e6f7a8b9c0d3"
down_revision: str | None = "d4e5f6a7b8c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
