"""Damage Cleanup Services (ウイルス感染復旧サービス): the administrator asks a client to run
a cleanup, the heartbeat delivers the request, the client posts what it did, and that lands
in the virus log (scan type "cleanup") with the action taken.

Running it is allowed in every license state (`core.policy`: damage_cleanup_run), also with
an expired DCS slot (the FAQ: ウイルス感染復旧サービスの実行 keeps working). With no DCS slot
at all it is refused: that is a licensing fact, not the expiry policy.

A delivered request is delivered again if no result came back within REDELIVER_AFTER, so
a client that crashed mid-run is asked again; a result for a finished request is accepted
and ignored, so a client retrying a post never doubles the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.clients.errors import ClientNotFound
from cssec.server.licensing.state import check_license, cs_license_state
from cssec.server.licensing.view import read_licenses
from cssec.server.logs.client_logs import Detection, add_virus_entries
from cssec.server.logs.events import Level, add_event
from cssec.server.models import CleanupRequest, Client
from cssec.server.protection.errors import CleanupRequestNotFound, DcsNotLicensed
from cssec.server.protection.realtime import parse_folders

REDELIVER_AFTER = timedelta(minutes=30)
SCAN_TYPE = "cleanup"
# What the client reports -> the virus log's action vocabulary.
ACTIONS = {
    "quarantined": "quarantine",
    "deleted": "delete",
    "reported": "report",
    "failed": "failed",
}
MAX_DETAILS = 20


class Status:
    PENDING = "pending"
    DELIVERED = "delivered"
    DONE = "done"


@dataclass(frozen=True)
class CleanupResult:
    path: str
    threat: str
    action: str  # quarantined | deleted | reported | failed
    sha256: str | None = None
    quarantine_id: str | None = None
    detail: str = ""


def dcs_licensed(session: Session, *, now: datetime, tz: tzinfo) -> bool:
    """Whether there is a DCS slot at all (its state does not matter)."""
    return read_licenses(session, now=now, tz=tz).slot(Product.DCS) is not None


def check_cleanup_allowed(session: Session, *, now: datetime, tz: tzinfo) -> LicenseState:
    """The C/S Sec. state, or the refusal: the policy first, then the DCS slot."""
    state = cs_license_state(session, now=now, tz=tz)
    decide(Product.CS, state, Operation.DAMAGE_CLEANUP_RUN).raise_if_refused()
    if not dcs_licensed(session, now=now, tz=tz):
        raise DcsNotLicensed()
    return state


def request_cleanup(
    session: Session,
    client_ids: Sequence[int],
    *,
    paths: str | Sequence[str] | None,
    now: datetime,
    tz: tzinfo,
    actor: str,
) -> list[CleanupRequest]:
    """Queue a cleanup on each client; one system event; commits."""
    check_cleanup_allowed(session, now=now, tz=tz)
    wanted = parse_folders(paths)
    clients = list(session.scalars(select(Client).where(Client.id.in_(list(client_ids)))))
    missing = set(client_ids) - {c.id for c in clients}
    if missing or not clients:
        raise ClientNotFound(client=", ".join(str(i) for i in sorted(missing)) or "-")
    made = []
    for client in clients:
        row = CleanupRequest(
            client_id=client.id,
            requested_at=now,
            requested_by=actor,
            paths=wanted,
            status=Status.PENDING,
        )
        session.add(row)
        made.append(row)
    session.flush()
    hosts = ", ".join(c.hostname for c in clients)
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="cleanup.requested",
        message={
            "ja": f"{actor}がウイルス感染復旧の実行を依頼しました: {hosts}",
            "en": f"{actor} requested Damage Cleanup on: {hosts}",
        },
        details={
            "clients": [c.uid for c in clients],
            "requests": [r.id for r in made],
            "paths": wanted,
            "actor": actor,
        },
    )
    session.commit()
    return made


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def heartbeat_cleanups(
    session: Session, client_id: int, *, state: LicenseState, dcs: bool, now: datetime
) -> list[dict[str, Any]]:
    """The requests to hand the client now, marked delivered. The caller commits."""
    if not dcs or not decide(Product.CS, state, Operation.DAMAGE_CLEANUP_RUN).allowed:
        return []
    rows = session.scalars(
        select(CleanupRequest)
        .where(
            CleanupRequest.client_id == client_id,
            or_(
                CleanupRequest.status == Status.PENDING,
                (CleanupRequest.status == Status.DELIVERED)
                & (CleanupRequest.delivered_at <= now - REDELIVER_AFTER),
            ),
        )
        .order_by(CleanupRequest.id)
    ).all()
    for row in rows:
        row.status = Status.DELIVERED
        row.delivered_at = now
    return [
        {"id": row.id, "requested_at": _iso(row.requested_at), "paths": row.paths} for row in rows
    ]


def record_cleanup_result(
    session: Session,
    client: Client,
    *,
    request_id: int | None,
    results: Sequence[CleanupResult],
    now: datetime,
    tz: tzinfo,
) -> bool:
    """Land the results in the virus log and finish the request; commits. False when the
    request was already finished (nothing written again)."""
    check_cleanup_allowed(session, now=now, tz=tz)
    check_license(session, Operation.LOG_APPEND_VIRUS, now=now, tz=tz)
    request: CleanupRequest | None = None
    if request_id is not None:
        request = session.get(CleanupRequest, request_id)
        if request is None or request.client_id != client.id:
            raise CleanupRequestNotFound(request_id=request_id)
        if request.status == Status.DONE:
            return False
    summary: dict[str, Any] = dict.fromkeys(ACTIONS, 0)
    failures: list[dict[str, str]] = []
    for result in results:
        summary[result.action] += 1
        if result.action == "failed" and len(failures) < MAX_DETAILS:
            failures.append({"path": result.path[:500], "detail": result.detail[:500]})
    if request is not None:
        request.status = Status.DONE
        request.completed_at = now
        request.summary = {**summary, "failures": failures} if failures else summary
    failed = summary["failed"]
    add_event(
        session,
        at=now,
        level=Level.WARNING if failed else Level.INFO,
        kind="cleanup.completed",
        message={
            "ja": f"クライアント {client.hostname}でウイルス感染復旧を実行しました"
            f" (隔離 {summary['quarantined']}、削除 {summary['deleted']}、"
            f"通知のみ {summary['reported']}、失敗 {failed})。",
            "en": f"Damage Cleanup ran on client {client.hostname}"
            f" (quarantined {summary['quarantined']}, deleted {summary['deleted']},"
            f" reported {summary['reported']}, failed {failed}).",
        },
        details={
            "client": client.uid,
            "request": request_id,
            **summary,
            "quarantine_ids": [r.quarantine_id for r in results if r.quarantine_id][:MAX_DETAILS],
        },
    )
    add_virus_entries(
        session,
        client,
        scan_type=SCAN_TYPE,
        detections=[
            Detection(
                path=r.path,
                threat=r.threat,
                action=ACTIONS[r.action],
                component="damage_cleanup_template",
                sha256=r.sha256.lower() if r.sha256 else None,
            )
            for r in results
        ],
        at=now,
    )  # commits the request, the event and the rows together
    session.commit()
    return True


def latest_requests(session: Session, client_ids: Sequence[int]) -> dict[int, CleanupRequest]:
    """Each client's newest cleanup request, for the client list."""
    newest = (
        select(func.max(CleanupRequest.id))
        .where(CleanupRequest.client_id.in_(list(client_ids)))
        .group_by(CleanupRequest.client_id)
    )
    rows = session.scalars(select(CleanupRequest).where(CleanupRequest.id.in_(newest)))
    return {row.client_id: row for row in rows}
