"""Which component versions each PC runs, and which PCs are behind the server's.

A client's versions are the ones it last reported after a successful update (or an
"up to date" answer) in the client update log; its last result is its newest row, whatever
it said. A client is *behind* on a component when the server distributes a higher version
than the client reported; it is *outdated* once it has been behind for longer than the
administrator's threshold, counted from when the server first accepted a version newer than
the client's (so a PC is not flagged in the minutes between the server's update and the
client's hourly one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.components import Manifest
from cssec.core.policy import Component
from cssec.server.logs.update_logs import UpdateResult
from cssec.server.models import Client, ClientUpdateLog, ComponentManifestRow, ComponentStatus

__all__ = ["OUTDATED_HOURS", "ClientComponents", "client_components", "distributed_since"]

OUTDATED_HOURS = 24
"""The default threshold: a client updates hourly, so a day behind is about 24 missed chances."""

_REPORTED = (UpdateResult.SUCCESS.value, UpdateResult.UP_TO_DATE.value)


@dataclass(frozen=True)
class ClientComponents:
    """One PC as the administrator's outdated view shows it."""

    uid: str
    hostname: str
    last_contact_at: datetime
    versions: dict[Component, int]
    last_result: str | None
    last_update_at: datetime | None
    behind: dict[Component, tuple[int | None, int]] = field(default_factory=dict)
    """Per component the client is behind on: (its version or None, the server's)."""
    behind_since: datetime | None = None

    def outdated(self, now: datetime, *, hours: int) -> bool:
        """Behind for more than `hours` hours."""
        return self.behind_since is not None and now - self.behind_since > timedelta(hours=hours)

    def to_api(self, now: datetime, *, hours: int) -> dict[str, Any]:
        return {
            "client_id": self.uid,
            "hostname": self.hostname,
            "last_contact_at": self.last_contact_at,
            "versions": {c.value: v for c, v in self.versions.items()},
            "last_result": self.last_result,
            "last_update_at": self.last_update_at,
            "behind": {
                c.value: {"client": mine, "server": theirs}
                for c, (mine, theirs) in self.behind.items()
            },
            "behind_since": self.behind_since,
            "outdated": self.outdated(now, hours=hours),
        }


def _manifest_versions(row: ComponentManifestRow) -> dict[Component, int]:
    manifest = Manifest.from_statement(row.envelope.get("statement")).value
    if manifest is None:
        return {}
    return {c: v.version for c, v in manifest.components.items()}


def distributed_since(
    session: Session,
) -> tuple[dict[Component, int], list[tuple[datetime, dict[Component, int]]]]:
    """The versions the server distributes now, and every manifest it accepted up to the
    current one, oldest first (a rolled-back manifest newer than the current is left out)."""
    status = session.get(ComponentStatus, 1)
    if status is None or status.current_manifest_id is None:
        return {}, []
    rows = session.scalars(
        select(ComponentManifestRow)
        .where(ComponentManifestRow.id <= status.current_manifest_id)
        .order_by(ComponentManifestRow.id)
    ).all()
    history = [(row.accepted_at, _manifest_versions(row)) for row in rows]
    current = history[-1][1] if history else {}
    return current, history


def _newest_rows(session: Session, *, reported_only: bool) -> dict[str, ClientUpdateLog]:
    newest = select(func.max(ClientUpdateLog.id)).group_by(ClientUpdateLog.client_id)
    if reported_only:
        newest = newest.where(ClientUpdateLog.result.in_(_REPORTED))
    rows = session.scalars(select(ClientUpdateLog).where(ClientUpdateLog.id.in_(newest)))
    return {row.client_id: row for row in rows}


def _versions(raw: dict[str, Any]) -> dict[Component, int]:
    out: dict[Component, int] = {}
    for component in Component:
        value = raw.get(component.value)
        if isinstance(value, int) and not isinstance(value, bool):
            out[component] = value
    return out


def client_components(session: Session) -> list[ClientComponents]:
    """Every enrolled client with its versions and how far behind the server it is."""
    current, history = distributed_since(session)
    reported = _newest_rows(session, reported_only=True)
    latest = _newest_rows(session, reported_only=False)
    out: list[ClientComponents] = []
    for client in session.scalars(select(Client).order_by(Client.hostname, Client.id)):
        report, last = reported.get(client.uid), latest.get(client.uid)
        versions = _versions(report.versions) if report else {}
        behind = {c: (versions.get(c), v) for c, v in current.items() if versions.get(c, -1) < v}
        since = [
            at
            for at, seen in history
            if any(seen.get(c, -1) > (versions.get(c, -1)) for c in behind)
        ]
        out.append(
            ClientComponents(
                uid=client.uid,
                hostname=client.hostname,
                last_contact_at=client.last_contact_at,
                versions=versions,
                last_result=last.result if last else None,
                last_update_at=last.at if last else None,
                behind=behind,
                behind_since=min(since) if since else None,
            )
        )
    return out
