"""The outbox's sender: claims due messages, posts webhooks (httpx) and sends mails (SMTP)
outside any transaction, then logs each attempt (`services.outbox.record_attempt`).

A 2xx answer delivers a webhook; anything else (another status, a timeout, a refused
connection, a TLS failure) is a failed attempt, retried on the outbox's back-off.
Redirects are not followed: an endpoint that moved answers 3xx until its URL is updated.
A target the policy refuses (`services.webhook_targets`: an internal address, a metadata
name, plain http) is logged "refused by policy" with the reason, and nothing is connected
to; the post goes to the address that was checked (`webhook_transport`).
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from cssec.vendor_service.mailer import build_mail, describe_failure, send_mail, smtp_config
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.outbox import (
    MAIL,
    WEBHOOK,
    claim_due,
    record_attempt,
)
from cssec.vendor_service.services.webhook_targets import TargetPolicy, TargetRefused, policy_of
from cssec.vendor_service.services.webhooks import signed_headers, webhook_body
from cssec.vendor_service.webhook_transport import webhook_client

log = logging.getLogger(__name__)
BATCH = 50
USER_AGENT = "cssec-vendor-webhooks/1"
REFUSED_BY_POLICY = "refused by policy"


@dataclass(frozen=True)
class Delivery:
    """One attempt's outcome."""

    outbox_id: int
    channel: str
    event: str
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True)
class _Snapshot:
    id: int
    channel: str
    event: str
    message_id: str
    payload: dict[str, object]
    body: str
    recipient: str | None
    url: str | None
    secret: str | None


def deliver_due(
    vendor: Vendor, *, limit: int = BATCH, policy: TargetPolicy | None = None
) -> list[Delivery]:
    """Claim up to `limit` due messages and attempt each once. Webhooks go only where
    `policy` (the vendor's by default) allows, to the address it checked."""
    with vendor.session() as session:
        ids = claim_due(session, limit=limit)
        policy = policy if policy is not None else policy_of(session)
    if not ids:
        return []
    timeout = vendor.settings.webhook_timeout
    with webhook_client(policy, timeout=timeout, user_agent=USER_AGENT) as client:
        return [deliver_message(vendor, outbox_id, client=client) for outbox_id in ids]


def deliver_all_due(vendor: Vendor, *, max_batches: int = 100) -> list[Delivery]:
    """`deliver_due` until nothing due is left (a failed message waits for its retry)."""
    done: list[Delivery] = []
    for _ in range(max_batches):
        batch = deliver_due(vendor)
        done.extend(batch)
        if len(batch) < BATCH:
            break
    return done


def _snapshot(session: Session, outbox_id: int) -> _Snapshot | None:
    with read_transaction(session):
        row = session.get(OutboxMessage, outbox_id)
        if row is None:
            return None
        endpoint = row.endpoint
        return _Snapshot(
            id=row.id,
            channel=row.channel,
            event=row.event,
            message_id=row.message_id,
            payload=dict(row.payload),
            body=webhook_body(row),
            recipient=row.recipient,
            url=endpoint.url if endpoint is not None and endpoint.removed_at is None else None,
            secret=endpoint.secret if endpoint is not None else None,
        )


def deliver_message(vendor: Vendor, outbox_id: int, *, client: httpx.Client) -> Delivery:
    """Attempt one claimed message and log the outcome."""
    with vendor.session() as session:
        message = _snapshot(session, outbox_id)
    if message is None:
        return Delivery(outbox_id, "", "", False, None, 0, "gone")
    started = time.perf_counter()
    if message.channel == WEBHOOK:
        status, error = _post(vendor, client, message)
    elif message.channel == MAIL:
        status, error = _mail(vendor, message)
    else:
        status, error = None, f"unknown channel {message.channel!r}"
    ok = error is None
    duration_ms = int((time.perf_counter() - started) * 1000)
    with vendor.session() as session:
        record_attempt(
            session, outbox_id, ok=ok, status_code=status, duration_ms=duration_ms, error=error
        )
    if not ok:
        log.warning("outbox %s (%s) not delivered: %s", outbox_id, message.event, error)
    return Delivery(outbox_id, message.channel, message.event, ok, status, duration_ms, error)


def _post(
    vendor: Vendor, client: httpx.Client, message: _Snapshot
) -> tuple[int | None, str | None]:
    if message.url is None or not message.secret:
        return None, "the endpoint was removed"
    headers = signed_headers(message.secret, message.message_id, message.body, vendor.clock.now())
    try:
        response = client.post(message.url, content=message.body.encode(), headers=headers)
    except TargetRefused as exc:  # before any connection: the log says why, not what answered
        return None, f"{REFUSED_BY_POLICY}: {exc.detail_en}"[:500]
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _mail(vendor: Vendor, message: _Snapshot) -> tuple[int | None, str | None]:
    config = smtp_config(vendor.settings)
    if config is None:
        return None, "no SMTP server is configured (CSSEC_VENDOR_SMTP_HOST, _SENDER)"
    if not message.recipient:
        return None, "no recipient"
    mail = build_mail(
        config,
        to=message.recipient,
        subject=str(message.payload.get("subject", "")),
        body=str(message.payload.get("body", "")),
        at=vendor.clock.now(),
        notice=str(message.payload.get("notice", message.message_id)),
    )
    try:
        return send_mail(config, mail, message.recipient), None
    except (OSError, smtplib.SMTPException) as exc:
        return describe_failure(exc)
