"""The audit log: one row per change, written inside the change's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.vendor_service.models import AuditEntry
from cssec.vendor_service.services._context import now_utc


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Add an audit row to the session's current transaction (the caller commits).

    `action` is dotted (contract.created, contract.renewed, code.reissued, code.revoked,
    registration.created, key.rotated, user.created); `target` names the object
    ("contract:12", "code:CS…", "key:hmac-3"); before/after are JSON-able dicts.
    """
    entry = AuditEntry(
        at=now_utc(session),
        actor=actor[:200],
        action=action,
        target=target[:200],
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def list_audit(
    session: Session, *, target: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """Newest first; `target` filters on an exact target."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return list(session.scalars(query))
