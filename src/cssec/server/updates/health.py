"""Component health: what clients report with their heartbeats, summed per version, and
sent to the vendor with each ActiveUpdate poll, signed with this server's identity key
(`core.health_report`), for the vendor's staged rollouts to halt on."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.core.health_report import (
    COUNTS,
    KIND,
    MAX_ENTRIES,
    HealthEntry,
    HealthReportError,
    parse_entries,
)
from cssec.core.rollout import bucket, effective_bucket
from cssec.core.signing import load_or_create_signing_key, sign_statement
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.models import ClientComponentHealth
from cssec.server.updates.rollout_timing import rollout_timing

log = logging.getLogger(__name__)
HEALTH_PATH = "/api/v1/activeupdate/health"
KEEP_PER_CLIENT = 8


def record_client_health(session: Session, client_id: int, raw: Any, *, now: datetime) -> int:
    """Keep what a client's heartbeat said (`status.component_health`); a malformed or
    oversized report is ignored whole (the heartbeat itself still counts). Returns the
    number of entries kept; commits."""
    if raw is None:
        return 0
    try:
        entries = parse_entries(raw)
    except HealthReportError as exc:
        log.warning("client %s: component health ignored: %s", client_id, exc)
        return 0
    for entry in entries:
        row = session.scalar(
            select(ClientComponentHealth).where(
                ClientComponentHealth.client_id == client_id,
                ClientComponentHealth.component == entry.component,
                ClientComponentHealth.version == entry.version,
            )
        )
        if row is None:
            row = ClientComponentHealth(
                client_id=client_id, component=entry.component, version=entry.version
            )
            session.add(row)
        row.loaded = min(entry.loaded, 1)
        row.load_failures = min(entry.load_failures, 1)
        for name in ("scans", "scan_errors", "crashes", "detections", "quarantines", "hours"):
            setattr(row, name, getattr(entry, name))
        row.updated_at = now
    session.flush()
    old = session.scalars(
        select(ClientComponentHealth.id)
        .where(ClientComponentHealth.client_id == client_id)
        .order_by(ClientComponentHealth.updated_at.desc(), ClientComponentHealth.id.desc())
        .offset(KEEP_PER_CLIENT)
    ).all()
    if old:
        session.execute(delete(ClientComponentHealth).where(ClientComponentHealth.id.in_(old)))
    session.commit()
    return len(entries)


def server_health(session: Session) -> list[HealthEntry]:
    """The clients' reports summed per component version (newest versions first, bounded)."""
    totals: dict[tuple[str, int], HealthEntry] = {}
    for row in session.scalars(select(ClientComponentHealth)):
        counts = {name: getattr(row, name) for name in COUNTS if name != "clients"}
        entry = HealthEntry(row.component, row.version, clients=1, **counts)
        key = (row.component, row.version)
        totals[key] = totals[key].plus(entry) if key in totals else entry
    ordered = sorted(totals.values(), key=lambda e: (-e.version, e.component))
    return ordered[:MAX_ENTRIES]


def health_statement(env: LicenseEnv, server_id: str, *, now: datetime) -> dict[str, Any] | None:
    """The signed report for the vendor; None when no client reported anything."""
    with env.sessionmaker() as session:
        entries = server_health(session)
    if not entries:
        return None
    key = load_or_create_signing_key(env.data.identity_key)
    place = effective_bucket(bucket(server_id), rollout_timing(env.data.root))
    statement = {
        "v": 1,
        "kind": KIND,
        "server_id": server_id,
        "server_key": key.public.to_jwk(),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "bucket": min(int(place * 100), 9999),
        "versions": [e.to_dict() for e in entries],
    }
    return sign_statement(statement, key)


async def send_health(
    env: LicenseEnv, vendor: VendorClient, *, code: str, server_id: str, now: datetime
) -> bool:
    """Best effort, with the poll: the vendor's refusal (too soon, an older vendor without
    the endpoint) is logged and changes nothing here."""
    try:
        envelope = health_statement(env, server_id, now=now)
    except (OSError, ValueError) as exc:  # the identity key unreadable: the update goes on
        log.warning("component health not sent: %s", exc)
        return False
    if envelope is None:
        return False
    body = {"activation_code": code, "report": envelope}
    try:
        await vendor._call("POST", HEALTH_PATH, body)  # one JSON POST
    except CssecError as exc:
        log.info("component health not taken by the vendor: %s", exc.code)
        return False
    return True
