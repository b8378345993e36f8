"""Outgoing webhooks (Standard Webhooks): endpoints, their events, and how a post is signed.

An endpoint is a URL, a `whsec_` secret and the events it subscribed to. `emit_event`
runs inside the transaction of the change it reports (the services that write the
audit actions contract.created, contract.renewed, code.reissued, code.revoked, and the
notices: license.expiring, license.expired, seats.exceeded) and adds one outbox message
per subscribed endpoint; `cssec.vendor_service.sender` posts it after the commit.

The body is ``{"type", "timestamp", "data"}``; `data` names contracts by id and codes by
serial and product, never a registration key's or activation code's text (a code is
a credential: whoever holds it downloads ActiveUpdate components). Every post carries
``webhook-id`` (the same on every attempt), ``webhook-timestamp`` (the attempt's time) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256>``), made by the `standardwebhooks`
package, which receivers use to verify (``Webhook(secret).verify(body, headers)``).

Secrets are stored, since signing needs them, and never shown back: listings and the
audit log carry a fingerprint (``sha256:…``, first 12 hex digits) only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from cssec.vendor_service.errors import InvalidWebhookEndpoint, WebhookEndpointNotFound
from cssec.vendor_service.models import OutboxMessage, WebhookEndpoint
from cssec.vendor_service.services._context import now_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.outbox import WEBHOOK, cancel_pending, enqueue
from cssec.vendor_service.services.webhook_targets import TargetPolicy, TargetRefused, policy_of

EVENTS = (
    "contract.created",
    "contract.renewed",
    "code.reissued",
    "code.revoked",
    "license.expiring",
    "license.expired",
    "seats.exceeded",
    "component.rollout_halted",
)
SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


@dataclass(frozen=True)
class EndpointView:
    """What listings show of an endpoint: never the secret, only its fingerprint."""

    id: int
    url: str
    events: list[str]
    description: str | None
    secret_fingerprint: str
    created_at: datetime
    created_by: str


def secret_fingerprint(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def _invalid(ja: str, en: str) -> InvalidWebhookEndpoint:
    return InvalidWebhookEndpoint(detail_ja=ja, detail_en=en)


def check_url(url: str, policy: TargetPolicy | None = None) -> str:
    """An https URL to a public host, or a target the operator named
    (`services.webhook_targets`). A name that does not resolve yet is accepted: every
    delivery checks it again."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise _invalid("URLが正しくありません。", "the URL is not valid.") from exc
    if len(url) > 2000 or not host or parts.username or parts.password:
        raise _invalid(
            "URLが正しくありません （ユーザー名やパスワードは含められません）。",
            "the URL is not valid (it may not carry a user name or password).",
        )
    policy = policy if policy is not None else TargetPolicy()
    try:
        try:
            policy.check(parts.scheme, host, port or (80 if parts.scheme == "http" else 443))
        except OSError:
            policy.check_scheme(parts.scheme, listed=policy.listed(host))
    except TargetRefused as exc:
        raise _invalid(exc.detail_ja, exc.detail_en) from None
    return url


def check_secret(secret: str) -> str:
    """A Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes."""
    secret = secret.strip()
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(body, validate=True) if secret.startswith(SECRET_PREFIX) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise _invalid(
            "シークレットは whsec_ に続けて 24〜64 バイトの乱数を base64で書いたものにしてください"
            " (例: whsec_ と「openssl rand -base64 32」の出力)。",
            "the secret must be whsec_ followed by 24 to 64 random bytes in base64 "
            "(e.g. whsec_ and the output of `openssl rand -base64 32`).",
        )
    return secret


def check_events(events: list[str]) -> list[str]:
    chosen = sorted(
        {e.strip() for e in events if e.strip()},
        key=lambda e: EVENTS.index(e) if e in EVENTS else len(EVENTS),
    )
    if not chosen or any(e not in EVENTS for e in chosen):
        raise _invalid(
            "イベントは次から 1 つ以上選んでください: " + ", ".join(EVENTS),
            "choose one or more events of: " + ", ".join(EVENTS),
        )
    return chosen


def _view(row: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        id=row.id,
        url=row.url,
        events=list(row.events),
        description=row.description,
        secret_fingerprint=secret_fingerprint(row.secret),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def add_webhook_endpoint(
    session: Session,
    *,
    url: str,
    secret: str,
    events: list[str],
    description: str | None = None,
    actor: str,
    policy: TargetPolicy | None = None,
) -> EndpointView:
    """Register an endpoint. Audited as webhook.added (with the secret's fingerprint only).
    The URL must pass `policy` (the vendor's, from the session, by default)."""
    url = check_url(url, policy if policy is not None else policy_of(session))
    secret = check_secret(secret)
    chosen = check_events(events)
    note = (description or "").strip()[:200] or None
    with transaction(session):
        row = WebhookEndpoint(
            url=url,
            secret=secret,
            events=chosen,
            description=note,
            created_at=now_utc(session),
            created_by=actor[:200],
        )
        session.add(row)
        session.flush()
        view = _view(row)
        record_audit(
            session,
            actor=actor,
            action="webhook.added",
            target=f"webhook:{row.id}",
            before=None,
            after={"url": url, "events": chosen, "secret": view.secret_fingerprint},
        )
    return view


def remove_webhook_endpoint(session: Session, endpoint_id: int, *, actor: str) -> int:
    """Stop posting to an endpoint: its secret is erased, its undelivered messages are
    cancelled (their log stays). Returns how many were cancelled. Audited as webhook.removed."""
    with transaction(session):
        row = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        if row is None or row.removed_at is not None:
            raise WebhookEndpointNotFound(endpoint_id=endpoint_id)
        fingerprint = secret_fingerprint(row.secret)
        row.removed_at = now_utc(session)
        row.secret = ""
        cancelled = cancel_pending(session, endpoint_id=row.id)
        record_audit(
            session,
            actor=actor,
            action="webhook.removed",
            target=f"webhook:{row.id}",
            before={"url": row.url, "events": list(row.events), "secret": fingerprint},
            after={"cancelled": cancelled},
        )
    return cancelled


def list_webhook_endpoints(session: Session) -> list[EndpointView]:
    rows = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.removed_at.is_(None))
        .order_by(WebhookEndpoint.id)
    )
    return [_view(row) for row in rows]


def emit_event(
    session: Session, event_type: str, data: dict[str, Any], *, contract_id: int | None = None
) -> list[OutboxMessage]:
    """Queue `event_type` for every endpoint that subscribed to it, in the caller's
    transaction (so the event exists exactly when the change it reports does)."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.removed_at.is_(None))
        .order_by(WebhookEndpoint.id)
    )
    payload = {"type": event_type, "timestamp": _iso(now_utc(session)), "data": data}
    return [
        enqueue(
            session,
            channel=WEBHOOK,
            event_type=event_type,
            payload=payload,
            endpoint_id=endpoint.id,
            contract_id=contract_id,
        )
        for endpoint in endpoints
        if event_type in endpoint.events
    ]


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def webhook_body(message: OutboxMessage) -> str:
    """The exact body posted (the same bytes on every attempt)."""
    return json.dumps(message.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt made at `at`."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
