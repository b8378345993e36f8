"""Taking a server's health report (`core.health_report`): POST /api/v1/activeupdate/health
`{"activation_code", "report": <envelope signed with the server's identity key>}`.

Order: the activation code is entitled (`authorize_download`, as for downloads); the body
is bounded; the statement verifies with the key it carries, and that key is the one pinned
for its server id at its first report (else refused: a server cannot speak for another);
not more often than `rollout_health_min_interval_seconds`; an `issued_at` not newer than
the last one taken is a replay (ignored). Then the newest counts per server and version
replace the previous ones, and the active rollout's health is judged at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.health_report import KIND, HealthEntry, HealthReportError, parse_entries
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.vendor_service.activeupdate.health import policy_of
from cssec.vendor_service.activeupdate.models import ComponentHealthRow, HealthReporter
from cssec.vendor_service.activeupdate.rollout_errors import (
    HealthReportRefused,
    HealthReportTooSoon,
)
from cssec.vendor_service.activeupdate.rollouts import active_rollout
from cssec.vendor_service.activeupdate.services import authorize_download
from cssec.vendor_service.services._context import now_utc, transaction

SKEW = timedelta(hours=1)


def _statement(envelope: object) -> tuple[dict[str, Any], str]:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("statement"), dict):
        raise HealthReportRefused(detail="not a signed statement")
    statement = envelope["statement"]
    try:
        key = VerifyingKey.from_jwk(statement["server_key"])
    except (KeyError, TypeError, ValueError):
        raise HealthReportRefused(detail="server_key") from None
    check = verify_statement(envelope, {key.kid: key})
    if not check.ok or statement.get("kind") != KIND:
        raise HealthReportRefused(detail=f"signature: {check.reason or 'wrong kind'}")
    return statement, key.kid


def _fields(
    statement: dict[str, Any], now: datetime
) -> tuple[str, int, datetime, list[HealthEntry]]:
    server_id = statement.get("server_id")
    issued_raw = statement.get("issued_at")
    bucket = statement.get("bucket")
    if not isinstance(server_id, str) or not 1 <= len(server_id) <= 64:
        raise HealthReportRefused(detail="server_id")
    if not isinstance(bucket, int) or isinstance(bucket, bool) or not 0 <= bucket <= 9999:
        raise HealthReportRefused(detail="bucket")
    try:
        issued = datetime.fromisoformat(str(issued_raw).replace("Z", "+00:00"))
        entries = parse_entries(statement.get("versions"))
    except (ValueError, HealthReportError) as exc:
        raise HealthReportRefused(detail=str(exc)[:200]) from None
    if issued.tzinfo is None or issued > now + SKEW:
        raise HealthReportRefused(detail="issued_at")
    return server_id, bucket, issued, entries


def take_health_report(session: Session, activation_code: str, envelope: object) -> int:
    """Returns the number of version entries taken (0 for a replay)."""
    now = now_utc(session)
    policy = policy_of(session)
    statement, kid = _statement(envelope)
    server_id, bucket, issued, entries = _fields(statement, now)
    with transaction(session):
        authorize_download(session, activation_code)
        reporter = session.scalar(
            select(HealthReporter).where(HealthReporter.server_id == server_id)
        )
        if reporter is None:
            reporter = HealthReporter(
                server_id=server_id, kid=kid, first_seen=now, last_report_at=now,
                last_issued_at=issued,
            )  # fmt: skip
            session.add(reporter)
        else:
            if reporter.kid != kid:
                raise HealthReportRefused(detail="another key speaks for this server id")
            wait = reporter.last_report_at + timedelta(seconds=policy.min_interval_seconds) - now
            if wait > timedelta(0):
                raise HealthReportTooSoon(seconds=int(wait.total_seconds()) + 1)
            if issued <= reporter.last_issued_at:
                return 0
            reporter.last_report_at, reporter.last_issued_at = now, issued
        for entry in entries:
            row = session.scalar(
                select(ComponentHealthRow).where(
                    ComponentHealthRow.server_id == server_id,
                    ComponentHealthRow.component == entry.component,
                    ComponentHealthRow.version == entry.version,
                )
            )
            if row is None:
                row = ComponentHealthRow(
                    server_id=server_id, component=entry.component, version=entry.version
                )
                session.add(row)
            for name, value in entry.to_dict().items():
                if name not in ("component", "version"):
                    setattr(row, name, value)
            row.bucket = bucket
            row.reported_at = now
    return len(entries)


def names_rolling(session: Session, envelope: object) -> bool:
    """Whether a report just taken names the version an active rollout is rolling out (only
    then is its health judged at once; the scheduler judges every pass anyway)."""
    rolling = active_rollout(session)
    if rolling is None or not isinstance(envelope, dict):
        return False
    statement = envelope.get("statement")
    versions = statement.get("versions") if isinstance(statement, dict) else None
    return any(
        isinstance(v, dict)
        and (v.get("component"), v.get("version")) == (rolling.component, rolling.version)
        for v in versions or []
    )
