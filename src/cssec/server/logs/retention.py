"""ログ管理 (log management): how long each of the four logs is kept, and purging them.

The four logs: virus (ウイルスログ), update (アップデートログ, server and client), system
event (システムイベントログ) and connection status (接続状態の確認ログ). Each has a retention
in days; 0 keeps it forever. A purge deletes the entries older than the retention, by hand
(the Web manager's button, which may also name another age) or once a local day from the
server loop (`LogMaintenance`). Every purge writes a system event with the counts.

Changing the settings and purging are `log_settings_change` in `core.policy` (allowed in
every state; asked anyway so the table stays the one place).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.core.errors import CssecError
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.background import ClockLoop, Sleep
from cssec.server.licensing.state import cs_license_state
from cssec.server.logs.events import Level, add_event
from cssec.server.models import (
    ClientUpdateLog,
    ConnectionLogEntry,
    LogManagementSettings,
    ServerUpdateLog,
    SystemEvent,
    VirusLogEntry,
)

MAX_RETENTION_DAYS = 3650


class LogKind(StrEnum):
    VIRUS = "virus"
    UPDATE = "update"
    SYSTEM_EVENT = "system_event"
    CONNECTION = "connection"


LOG_LABELS: dict[LogKind, dict[str, str]] = {
    LogKind.VIRUS: {"ja": "ウイルスログ", "en": "Virus log"},
    LogKind.UPDATE: {
        "ja": "アップデートログ (サーバ/クライアント)",
        "en": "Update log (server and client)",
    },
    LogKind.SYSTEM_EVENT: {"ja": "システムイベントログ", "en": "System event log"},
    LogKind.CONNECTION: {"ja": "接続状態の確認ログ", "en": "Connection status log"},
}
_COLUMNS: dict[LogKind, str] = {
    LogKind.VIRUS: "virus_days",
    LogKind.UPDATE: "update_days",
    LogKind.SYSTEM_EVENT: "system_event_days",
    LogKind.CONNECTION: "connection_days",
}
_TABLES: dict[LogKind, tuple[Any, ...]] = {
    LogKind.VIRUS: (VirusLogEntry,),
    LogKind.UPDATE: (ServerUpdateLog, ClientUpdateLog),
    LogKind.SYSTEM_EVENT: (SystemEvent,),
    LogKind.CONNECTION: (ConnectionLogEntry,),
}


class InvalidLogSetting(CssecError):
    code = "invalid_log_setting"
    status = 422
    message_ja = (
        "ログ管理の設定を保存できませんでした: {detail_ja} 値を直して、もう一度保存してください。"
    )
    message_en = "The log settings were not saved: {detail_en} Correct the value and save again."


def read_log_settings(session: Session) -> LogManagementSettings:
    """The settings row (the defaults, unsaved, when none was ever saved: keep forever)."""
    row = session.get(LogManagementSettings, 1)
    if row is None:
        row = LogManagementSettings(
            id=1, virus_days=0, update_days=0, system_event_days=0, connection_days=0
        )
    return row


def retention(row: LogManagementSettings) -> dict[LogKind, int]:
    return {kind: int(getattr(row, column)) for kind, column in _COLUMNS.items()}


def _stored(session: Session) -> LogManagementSettings:
    row = session.get(LogManagementSettings, 1)
    if row is None:
        row = read_log_settings(session)
        session.add(row)
    return row


def _check_days(kind: LogKind, days: int) -> int:
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidLogSetting(
            detail_ja=f"{LOG_LABELS[kind]['ja']}の保存期間は 0〜{MAX_RETENTION_DAYS} 日です。",
            detail_en=f"the retention of the {LOG_LABELS[kind]['en']} must be 0 to "
            f"{MAX_RETENTION_DAYS} days.",
        )
    return days


def update_log_settings(
    session: Session,
    days: dict[LogKind, int],
    *,
    now: datetime,
    state: LicenseState,
    actor: str,
) -> LogManagementSettings:
    """Save the retentions (every log must be given); commits with a system event."""
    decide(Product.CS, state, Operation.LOG_SETTINGS_CHANGE).raise_if_refused()
    checked = {kind: _check_days(kind, days[kind]) for kind in LogKind}
    row = _stored(session)
    before = retention(row)
    for kind, value in checked.items():
        setattr(row, _COLUMNS[kind], value)
    row.updated_at = now
    row.updated_by = actor[:64]

    def text(lang: str) -> str:
        forever = "無期限" if lang == "ja" else "forever"
        unit = " 日" if lang == "ja" else " days"
        sep = "、" if lang == "ja" else ", "
        return sep.join(
            f"{LOG_LABELS[k][lang]}: {forever if v == 0 else str(v) + unit}"
            for k, v in checked.items()
        )

    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="logs.settings_changed",
        message={
            "ja": f"{actor}がログの保存期間を変更しました ({text('ja')})。",
            "en": f"{actor} changed the log retention ({text('en')}).",
        },
        details={"actor": actor, "before": dict(before), "after": dict(checked)},
    )
    session.commit()
    return row


@dataclass(frozen=True)
class PurgeResult:
    counts: dict[LogKind, int]
    cutoffs: dict[LogKind, datetime]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge_logs(
    session: Session,
    *,
    now: datetime,
    state: LicenseState,
    actor: str,
    trigger: str,
    older_than: dict[LogKind, int] | None = None,
) -> PurgeResult:
    """Delete entries older than each log's age in days (default: its retention; logs kept
    forever are skipped; an explicit 0 deletes every entry). Commits with a system event
    naming the counts, which the purge itself never deletes."""
    decide(Product.CS, state, Operation.LOG_SETTINGS_CHANGE).raise_if_refused()
    if older_than is None:
        ages = {k: v for k, v in retention(read_log_settings(session)).items() if v > 0}
    else:
        ages = {k: _check_days(k, v) for k, v in older_than.items()}
    counts: dict[LogKind, int] = {}
    cutoffs: dict[LogKind, datetime] = {}
    for kind, days in ages.items():
        cutoff = now - timedelta(days=days)
        cutoffs[kind] = cutoff
        removed = 0
        for table in _TABLES[kind]:
            statement = delete(table) if days == 0 else delete(table).where(table.at < cutoff)
            result = session.execute(statement)
            removed += int(getattr(result, "rowcount", 0) or 0)
        counts[kind] = removed
    how = {
        "manual": {"ja": "手動", "en": "manual"},
        "schedule": {"ja": "自動 (毎日)", "en": "automatic (daily)"},
    }.get(trigger, {"ja": trigger, "en": trigger})

    def text(lang: str) -> str:
        sep = "、" if lang == "ja" else ", "
        unit = " 件" if lang == "ja" else ""
        parts = [f"{LOG_LABELS[k][lang]} {n}{unit}" for k, n in counts.items()]
        return sep.join(parts) or ("対象なし" if lang == "ja" else "nothing to purge")

    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="logs.purged",
        message={
            "ja": f"ログを削除しました ({how['ja']}、{actor}): {text('ja')}。",
            "en": f"Logs purged ({how['en']}, {actor}): {text('en')}.",
        },
        details={
            "trigger": trigger,
            "actor": actor,
            "counts": {k.value: n for k, n in counts.items()},
            "older_than_days": {k.value: d for k, d in ages.items()},
        },
    )
    session.commit()
    return PurgeResult(counts=counts, cutoffs=cutoffs)


class LogMaintenance(ClockLoop):
    """The daily automatic purge: due once per local day, decided from the stored date of
    the last one (a restart does not purge twice, a day missed while down runs at start).
    Looks once a minute; tests call `run_due` with a FakeClock and never sleep."""

    task_name = "cssec-log-maintenance"
    failure_message = "automatic log purge failed"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        tz: tzinfo,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(clock, sleep=sleep)
        self.sessions = sessions
        self.clock = clock
        self.tz = tz

    def _today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def run_due(self, now: datetime | None = None) -> PurgeResult | None:
        """Purge by the retention settings if no automatic purge ran today (local)."""
        now = now or self.clock.now()
        today = self._today(now)
        with self.sessions() as session:
            row = read_log_settings(session)
            if row.last_auto_purge_on == today:
                return None
            if not any(days > 0 for days in retention(row).values()):
                return None
            state = cs_license_state(session, now=now, tz=self.tz)
            result = purge_logs(
                session, now=now, state=state, actor="scheduler", trigger="schedule"
            )
            _stored(session).last_auto_purge_on = today
            session.commit()
            return result

    async def tick(self) -> None:
        self.run_due()
