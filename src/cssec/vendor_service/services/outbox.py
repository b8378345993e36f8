"""The outbox: webhook posts and mails written in the transaction that caused them,
delivered after it commits, retried with back-off, logged attempt by attempt.

A message is never lost: it is a row, committed with the change it reports (or with
nothing, if that change rolled back), and stays `pending` until a sender delivered it or
gave up after the last retry (`BACKOFF`: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, so
eight attempts over almost two days). A restarted vendor picks the pending rows up at
its first run.

Exactly one sender handles a message at a time, however many vendor processes run:
`claim_due` takes due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (on
SQLite the transaction begins IMMEDIATE, so one writer claims at a time) and leases them
for `LEASE`; the sender posts outside any transaction, then `record_attempt` writes the
outcome. A sender killed mid-post leaves its lease to expire and the message is sent
again: delivery is at least once, with the same `webhook-id` (receivers deduplicate on
it, as the Standard Webhooks specification expects).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from cssec.vendor_service.errors import OutboxMessageNotFound
from cssec.vendor_service.models import DeliveryAttempt, OutboxMessage
from cssec.vendor_service.services._context import now_utc, transaction
from cssec.vendor_service.services.audit import record_audit

WEBHOOK, MAIL = "webhook", "mail"
PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
"""The wait after the 1st, 2nd, … failed attempt; after the last one the message fails."""
LEASE = timedelta(minutes=5)
"""How long a claimed message is left to its sender (longer than any one attempt)."""
WAKEUP = "outbox_wakeup"
"""`session.info` key: a callable that wakes the sender (set by the background jobs)."""
_LISTENING = "outbox_listening"
_ENQUEUED = "outbox_enqueued"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def enqueue(
    session: Session,
    *,
    channel: str,
    event_type: str,
    payload: dict[str, Any],
    endpoint_id: int | None = None,
    recipient: str | None = None,
    contract_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the caller's transaction, due at once; the sender is woken when
    the transaction commits (a rollback takes the message with it)."""
    now = now_utc(session)
    row = OutboxMessage(
        message_id=new_message_id(),
        channel=channel,
        event=event_type,
        endpoint_id=endpoint_id,
        recipient=recipient,
        contract_id=contract_id,
        payload=payload,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    _wake_after_commit(session)
    return row


def _wake_after_commit(session: Session) -> None:
    session.info[_ENQUEUED] = True
    if session.info.get(_LISTENING):
        return
    session.info[_LISTENING] = True

    def committed(done: Session) -> None:
        wake: Callable[[], None] | None = done.info.get(WAKEUP)
        if done.info.pop(_ENQUEUED, False) and wake is not None:
            wake()

    def rolled_back(done: Session) -> None:
        done.info.pop(_ENQUEUED, None)

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", rolled_back)


def retry_at(failures: int, now: datetime) -> datetime | None:
    """When to try again after `failures` failed attempts in a row (None: give up)."""
    if failures > len(BACKOFF):
        return None
    return now if failures < 1 else now + BACKOFF[failures - 1]


def claim_due(session: Session, *, limit: int = 50, lease: timedelta = LEASE) -> list[int]:
    """Lease up to `limit` due messages to this sender (its own transaction); their ids."""
    with transaction(session):
        now = now_utc(session)
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.lease_until = now + lease
        ids = [row.id for row in rows]
    return ids


def record_attempt(
    session: Session,
    outbox_id: int,
    *,
    ok: bool,
    status_code: int | None,
    duration_ms: int,
    error: str | None = None,
) -> OutboxMessage:
    """Log one attempt and schedule the next one (or mark the message delivered / failed)."""
    with transaction(session):
        now = now_utc(session)
        row = session.get(OutboxMessage, outbox_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise OutboxMessageNotFound(outbox_id=outbox_id)
        # The first attempt of a round that follows earlier ones: a manual redelivery.
        manual = row.attempts == 0 and _logged(session, row.id)
        session.add(
            DeliveryAttempt(
                outbox_id=row.id,
                at=now,
                ok=ok,
                status_code=status_code,
                duration_ms=max(0, duration_ms),
                error=error[:500] if error else None,
                manual=manual,
            )
        )
        row.lease_until = None
        row.last_status_code = status_code
        row.last_error = error[:500] if error else None
        if row.status != PENDING:
            pass  # cancelled while in flight (endpoint removed): logged, left as it is
        elif ok:
            row.status = DELIVERED
            row.delivered_at = now
            row.attempts = 0
        else:
            row.attempts += 1
            following = retry_at(row.attempts, now)
            if following is None:
                row.status = FAILED
            else:
                row.next_attempt_at = following
    return row


def _logged(session: Session, outbox_id: int) -> bool:
    found = session.scalar(
        select(DeliveryAttempt.id).where(DeliveryAttempt.outbox_id == outbox_id).limit(1)
    )
    return found is not None


def redeliver_message(session: Session, outbox_id: int, *, actor: str) -> OutboxMessage:
    """Put a delivered or failed message back in the queue, due now, with a full set of
    retries (its log and its webhook-id stay). Audited as outbox.redelivered."""
    with transaction(session):
        row = session.get(OutboxMessage, outbox_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise OutboxMessageNotFound(outbox_id=outbox_id)
        before = {"status": row.status, "attempts": row.attempts}
        row.status = PENDING
        row.attempts = 0
        row.next_attempt_at = now_utc(session)
        row.lease_until = None
        record_audit(
            session,
            actor=actor,
            action="outbox.redelivered",
            target=f"outbox:{row.id}",
            before=before,
            after={"status": PENDING, "event": row.event, "message_id": row.message_id},
        )
        _wake_after_commit(session)
    return row


def cancel_pending(session: Session, *, endpoint_id: int) -> int:
    """Cancel an endpoint's undelivered messages (in the caller's transaction)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.endpoint_id == endpoint_id, OutboxMessage.status == PENDING)
        .values(status=CANCELLED, lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_messages(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def message_attempts(session: Session, outbox_id: int) -> list[DeliveryAttempt]:
    """The delivery log of one message, oldest first."""
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id == outbox_id)
            .order_by(DeliveryAttempt.id)
        )
    )
