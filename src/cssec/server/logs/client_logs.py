"""What clients report and how they connect: the virus log (ウイルスログ), the connection
status log (接続状態の確認ログ), and the paged, filtered reads the Web manager shows.

Rows are added inside the caller's transaction. Both logs stay writable in every license
state (`core.policy`: log_append_virus, log_append_connection_status).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cssec.core.policy import Operation
from cssec.server.logs.gate import check_log_append
from cssec.server.models import Client, ConnectionLogEntry, VirusLogEntry

T = TypeVar("T")
PER_PAGE = 50
UNKNOWN_HOST = "-"


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def like(text: str) -> str:
    """A case-insensitive substring pattern for `ilike(..., escape="\\")`."""
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def _paged(
    session: Session, query: Select[Any], order: Sequence[Any], page: int, per_page: int
) -> Page[Any]:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    return Page(rows=list(rows.all()), total=total, page=page, per_page=per_page)


def add_connection(
    session: Session,
    *,
    at: datetime,
    client: Client | None,
    ip: str,
    action: str,
    status: str,
    hostname: str | None = None,
) -> ConnectionLogEntry:
    check_log_append(session, Operation.LOG_APPEND_CONNECTION_STATUS, at)
    entry = ConnectionLogEntry(
        at=at,
        client_id=client.id if client is not None else None,
        hostname=(client.hostname if client is not None else hostname or UNKNOWN_HOST)[:255],
        ip=ip[:64],
        action=action[:32],
        status=status[:64],
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Detection:
    path: str
    threat: str
    action: str
    component: str | None = None
    component_version: int | None = None
    rule: str | None = None
    sha256: str | None = None


def add_virus_entries(
    session: Session,
    client: Client,
    *,
    scan_type: str,
    detections: Sequence[Detection],
    at: datetime,
) -> int:
    for found in detections:
        session.add(
            VirusLogEntry(
                at=at,
                client_id=client.id,
                hostname=client.hostname,
                client_uid=client.uid,
                ip=client.last_ip,
                scan_type=scan_type,
                path=found.path,
                threat=found.threat,
                component=found.component,
                component_version=found.component_version,
                rule=found.rule,
                sha256=found.sha256,
                action=found.action,
            )
        )
    session.commit()
    return len(detections)


def virus_query(*, hostname: str = "", threat: str = "", scan_type: str = "") -> Select[Any]:
    """The virus log filtered as the page and its CSV export filter it (unordered)."""
    query = select(VirusLogEntry)
    if hostname:
        query = query.where(VirusLogEntry.hostname.ilike(like(hostname), escape="\\"))
    if threat:
        query = query.where(VirusLogEntry.threat.ilike(like(threat), escape="\\"))
    if scan_type:
        query = query.where(VirusLogEntry.scan_type == scan_type)
    return query


def connection_query(
    *, hostname: str = "", action: str = "", failures_only: bool = False
) -> Select[Any]:
    """The connection log filtered as the page and its CSV export filter it (unordered)."""
    query = select(ConnectionLogEntry)
    if hostname:
        query = query.where(ConnectionLogEntry.hostname.ilike(like(hostname), escape="\\"))
    if action:
        query = query.where(ConnectionLogEntry.action == action)
    if failures_only:
        query = query.where(ConnectionLogEntry.status.not_in(("ok", "online")))
    return query


def list_virus_log(
    session: Session,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    hostname: str = "",
    threat: str = "",
    scan_type: str = "",
) -> Page[VirusLogEntry]:
    """Newest first; host and threat match substrings, case-insensitively."""
    query = virus_query(hostname=hostname, threat=threat, scan_type=scan_type)
    return _paged(session, query, [VirusLogEntry.id.desc()], page, per_page)


def list_connections(
    session: Session,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    hostname: str = "",
    action: str = "",
    failures_only: bool = False,
) -> Page[ConnectionLogEntry]:
    query = connection_query(hostname=hostname, action=action, failures_only=failures_only)
    return _paged(session, query, [ConnectionLogEntry.id.desc()], page, per_page)


def list_clients(
    session: Session,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    hostname: str = "",
    uids: list[str] | None = None,
) -> Page[Client]:
    """`uids`: only these clients (None: every client)."""
    query = select(Client)
    if uids is not None:
        query = query.where(Client.uid.in_(uids))
    if hostname:
        query = query.where(Client.hostname.ilike(like(hostname), escape="\\"))
    return _paged(session, query, [Client.hostname, Client.id], page, per_page)
