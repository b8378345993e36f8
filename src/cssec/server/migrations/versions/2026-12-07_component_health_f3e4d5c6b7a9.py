"""Clients' component health reports, kept for the vendor's staged rollouts (issue 24).

Revision ID: f3e4d5c6b7a9
Revises: f1e2d3c4b5a7
Create Date: 2026-12-07 22:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "f3e4d5c6b7a9"
down_revision: str | None = "f1e2d3c4b5a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
