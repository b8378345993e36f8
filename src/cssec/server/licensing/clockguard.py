"""The latest time the server has seen, so setting the clock back cannot revive a license.

License state is computed with max(now, latest seen): a clock moved back cannot take a
slot from grace or expired into activated. A move back of more than a day is logged once
(clock.rollback) and shown as a banner while it lasts.

Recording the time is a side effect of reading: when the write fails (a full disk, a
locked or read-only database), a read in a fresh session still answers from the time in
memory, max(now, latest seen as read), which never moves a license backwards; the failure
is logged and the next read tries the write again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cssec.server.licensing.state import guarded
from cssec.server.logs.events import Level, add_event
from cssec.server.models import ServerInfo

ROLLBACK_THRESHOLD = timedelta(days=1)
PERSIST_EVERY = timedelta(minutes=1)
"""How far the clock must move before latest_seen is written again (keeps reads cheap)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeView:
    now: datetime
    latest_seen: datetime

    @property
    def effective(self) -> datetime:
        return guarded(self.now, self.latest_seen)

    @property
    def rolled_back(self) -> bool:
        return self.now < self.latest_seen - ROLLBACK_THRESHOLD


def server_info(session: Session) -> ServerInfo:
    info = session.get(ServerInfo, 1)
    if info is None:
        raise RuntimeError("server_info row missing: the data directory is not installed")
    return info


def observe_time(session: Session, now: datetime) -> TimeView:
    """Record `now` as seen (when it is later) and log a rollback once; commits.

    In a session with no transaction of the caller's yet, a failed write (OperationalError:
    disk full, database locked or read-only) is rolled back, logged, and the view returned
    anyway; inside the caller's transaction it propagates, since rolling back would drop
    the caller's work.
    """
    fresh = not session.in_transaction()
    info = server_info(session)
    view = TimeView(now=now, latest_seen=info.latest_seen)
    changed = False
    if now > info.latest_seen + PERSIST_EVERY:
        info.latest_seen = now
        changed = True
    if view.rolled_back and info.rollback_logged_for != info.latest_seen:
        info.rollback_logged_for = info.latest_seen
        seen = f"{info.latest_seen.astimezone(UTC):%Y-%m-%d %H:%M:%S} (UTC)"
        current = f"{now.astimezone(UTC):%Y-%m-%d %H:%M:%S} (UTC)"
        add_event(
            session,
            at=now,
            level=Level.WARNING,
            kind="clock.rollback",
            message={
                "ja": (
                    f"システム時刻が戻されました (現在 {current}、"
                    f"これまでの最新 {seen})。ライセンスの状態は最新の時刻で判定します。"
                    "サーバの時刻設定 (NTP)を確認してください。"
                ),
                "en": (
                    f"The system clock was set back (now {current}, "
                    f"latest seen {seen}). License state is judged by the latest time seen. "
                    "Check the server's time settings (NTP)."
                ),
            },
            details={"now": now.isoformat(), "latest_seen": info.latest_seen.isoformat()},
        )
        changed = True
    if changed:
        try:
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if not fresh:
                raise
            log.warning(
                "could not save the latest time seen (%s); license state uses it from memory "
                "/ 最新の時刻を保存できませんでした。ライセンスの状態はメモリ上の時刻で判定します",
                " ".join(str(exc.orig if exc.orig is not None else exc).split()),
            )
    return view
