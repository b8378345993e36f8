"""The system event log (システムイベントログ): every activation, check and refusal lands here.

Rows are added inside the caller's transaction, so an event exists exactly when what it
describes was committed. Events about things that did *not* change (a failed check, a
refused code) are written in their own short transaction by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.policy import Operation
from cssec.server.logs.gate import check_log_append
from cssec.server.models import SystemEvent


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


LEVEL_LABELS = {
    Level.INFO: {"ja": "情報", "en": "Information"},
    Level.WARNING: {"ja": "警告", "en": "Warning"},
    Level.ERROR: {"ja": "エラー", "en": "Error"},
}


def add_event(
    session: Session,
    *,
    at: datetime,
    level: Level,
    kind: str,
    message: dict[str, str],
    details: dict[str, Any] | None = None,
) -> SystemEvent:
    check_log_append(session, Operation.LOG_APPEND_SYSTEM_EVENT, at)
    event = SystemEvent(
        at=at,
        level=level.value,
        kind=kind,
        message_ja=message["ja"],
        message_en=message["en"],
        details=details or {},
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class EventPage:
    events: list[SystemEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_events(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 50,
    kind_prefix: str | None = None,
    level: Level | None = None,
) -> EventPage:
    """Newest first (by insertion, which a clock set back cannot reorder)."""
    query = select(SystemEvent)
    count = select(func.count()).select_from(SystemEvent)
    if kind_prefix:
        like = kind_prefix.replace("%", "").replace("_", r"\_") + "%"
        query = query.where(SystemEvent.kind.like(like, escape="\\"))
        count = count.where(SystemEvent.kind.like(like, escape="\\"))
    if level is not None:
        query = query.where(SystemEvent.level == level.value)
        count = count.where(SystemEvent.level == level.value)
    page = max(1, page)
    rows = session.scalars(
        query.order_by(SystemEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    total = session.scalar(count) or 0
    return EventPage(events=list(rows), total=total, page=page, per_page=per_page)
