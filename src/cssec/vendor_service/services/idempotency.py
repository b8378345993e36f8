"""Idempotency-Key for the admin API's POSTs: a retried request gets the first answer.

Per token and key: the first request reserves the key (a row with no answer yet, in its
own committed transaction, so a concurrent twin finds it), runs, and stores its answer.
The same key with the same method, path and body then gets that answer again, without
running anything; with anything else it is refused (`idempotency_key_reused`). A twin
arriving while the first still runs is told to retry (`idempotency_key_in_progress`).

Two retries of an abandoned key arriving together both see the stale reservation; one
releases it and goes first, the other gets what it left: in progress, or its answer.

Limits, stated: the answer is stored after the use case's own transaction commits, so a
process killed between the two leaves the key reserved with no answer; such a
reservation is released after `ABANDONED`, and a retry after that runs the use case
again. Keys are kept for `KEEP` (24 hours, as Stripe does), then forgotten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cssec.vendor_service.api_errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from cssec.vendor_service.models import IdempotencyRecord
from cssec.vendor_service.services._context import now_utc, transaction

KEEP = timedelta(hours=24)
ABANDONED = timedelta(minutes=2)


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: str
    headers: dict[str, str]


def check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
        raise InvalidIdempotencyKey()
    return key


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 over the method, the path and the body as canonical JSON (sorted keys, no
    spaces): a retry with reordered fields is the same request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def begin(session: Session, *, token_id: int, key: str, fingerprint: str) -> StoredAnswer | None:
    """None: this request goes first and now holds the key (call `finish`). Otherwise the
    first request's answer, to send again."""
    check_key(key)
    with transaction(session):
        now = now_utc(session)
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEEP))
        row = _held(session, token_id, key)
        if row is not None and row.status_code is None and row.created_at < now - ABANDONED:
            row = _release_abandoned(session, row, token_id=token_id, key=key)
        if row is not None:
            if row.request_hash != fingerprint:
                raise IdempotencyKeyReused(key=key)
            if row.status_code is None or row.response_body is None:
                raise IdempotencyKeyInProgress(key=key)
            return StoredAnswer(
                row.status_code, row.response_body, dict(row.response_headers or {})
            )
        session.add(
            IdempotencyRecord(token_id=token_id, key=key, request_hash=fingerprint, created_at=now)
        )
        try:
            session.flush()
        except IntegrityError:
            # A twin reserved it between our read and our insert.
            raise IdempotencyKeyInProgress(key=key) from None
    return None


def _held(session: Session, token_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key
        )
    )


def _release_abandoned(
    session: Session, row: IdempotencyRecord, *, token_id: int, key: str
) -> IdempotencyRecord | None:
    """Delete the abandoned reservation `row`: None when this request did. Two retries can
    both find it (PostgreSQL lets both read it; SQLite's BEGIN IMMEDIATE lets only one in
    at a time): the one whose delete finds it gone answers from what the other left under
    the key, its reservation (in progress) or its stored answer, instead of failing."""
    released = session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.id == row.id, IdempotencyRecord.status_code.is_(None))
        .execution_options(synchronize_session=False)
    )
    session.expunge(row)
    if released.rowcount == 1:  # type: ignore[attr-defined]
        return None
    return _held(session, token_id, key)


def finish(session: Session, *, token_id: int, key: str, answer: StoredAnswer | None) -> None:
    """Store the first answer, or (None: it failed in a way worth retrying) release the key."""
    with transaction(session):
        row = _held(session, token_id, key)
        if row is None:
            return
        if answer is None:
            session.delete(row)
            return
        row.status_code = answer.status_code
        row.response_body = answer.body
        row.response_headers = answer.headers
