"""The real-time scan switch (リアルタイム検索): per client, plus a default for new clients.

A client's own row is made from the defaults the first time it is needed (its first
heartbeat, or the administrator setting it). Changing the defaults first pins every client
that has no row yet to the old defaults, so a new default only reaches clients installed
after the change. The heartbeat answers the switch; real-time scan is allowed in every
license state, and the answer still asks `core.policy.decide` so the rule stays in one table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.clients.errors import ClientNotFound
from cssec.server.logs.events import Level, add_event
from cssec.server.models import Client, ClientRealtime, RealtimeDefaults
from cssec.server.protection.entry_lists import clean_entries
from cssec.server.protection.errors import InvalidRealtimeFolders

DEFAULTS_ID = 1
MAX_FOLDERS = 50
MAX_FOLDER_LENGTH = 1024


@dataclass(frozen=True)
class RealtimeSetting:
    on: bool
    folders: list[str] | None  # None: the client's own configured folders

    def folders_text(self) -> str:
        return "\n".join(self.folders or [])


FACTORY_DEFAULT = RealtimeSetting(on=True, folders=None)


def parse_folders(text: str | Iterable[str] | None) -> list[str] | None:
    """One folder a line (or a list); empty means None (the client's own folders)."""
    if text is None:
        return None
    lines = text.splitlines() if isinstance(text, str) else list(text)
    folders = clean_entries(
        lines,
        max_length=MAX_FOLDER_LENGTH,
        max_count=MAX_FOLDERS,
        unusable=lambda folder: InvalidRealtimeFolders(
            detail_ja=f"使えないフォルダ名です ({folder[:60]})",
            detail_en=f"unusable folder name ({folder[:60]})",
        ),
        too_many=lambda: InvalidRealtimeFolders(
            detail_ja=f"フォルダは {MAX_FOLDERS} 個までです",
            detail_en=f"at most {MAX_FOLDERS} folders",
        ),
    )
    return folders or None


def read_defaults(session: Session) -> RealtimeSetting:
    row = session.get(RealtimeDefaults, DEFAULTS_ID)
    if row is None:
        return FACTORY_DEFAULT
    return RealtimeSetting(on=row.realtime_scan, folders=row.realtime_folders)


def _row_for(session: Session, client_id: int, *, now: datetime) -> ClientRealtime:
    row = session.get(ClientRealtime, client_id)
    if row is None:
        default = read_defaults(session)
        row = ClientRealtime(
            client_id=client_id,
            realtime_scan=default.on,
            realtime_folders=default.folders,
            updated_at=now,
            updated_by="default",
        )
        session.add(row)
        session.flush()
    return row


def settings_for(session: Session, client_ids: Sequence[int]) -> dict[int, RealtimeSetting]:
    """Each client's switch as the heartbeat would answer it (the defaults when unset)."""
    default = read_defaults(session)
    found = {
        row.client_id: RealtimeSetting(on=row.realtime_scan, folders=row.realtime_folders)
        for row in session.scalars(
            select(ClientRealtime).where(ClientRealtime.client_id.in_(list(client_ids)))
        )
    }
    return {cid: found.get(cid, default) for cid in client_ids}


def running_for(session: Session, client_ids: Sequence[int]) -> dict[int, bool | None]:
    """Whether each client last said its real-time scan runs (None: it never said)."""
    rows = session.scalars(
        select(ClientRealtime).where(ClientRealtime.client_id.in_(list(client_ids)))
    )
    return {row.client_id: row.running for row in rows}


def heartbeat_realtime(
    session: Session,
    client_id: int,
    *,
    state: LicenseState,
    running: bool | None,
    now: datetime,
) -> RealtimeSetting:
    """What the heartbeat answers; records what the client reported. The caller commits."""
    row = _row_for(session, client_id, now=now)
    if running is not None:
        row.running = running
        row.running_reported_at = now
    allowed = decide(Product.CS, state, Operation.REALTIME_SCAN).allowed
    return RealtimeSetting(on=row.realtime_scan and allowed, folders=row.realtime_folders)


def _describe(setting: RealtimeSetting, lang: str) -> str:
    on = {"ja": "オン", "en": "on"}[lang] if setting.on else {"ja": "オフ", "en": "off"}[lang]
    if setting.folders is None:
        where = {"ja": "クライアント側の設定フォルダ", "en": "the client's own folders"}[lang]
    else:
        where = ", ".join(setting.folders)
    return f"{on} ({where})"


def set_client_realtime(
    session: Session,
    client_ids: Sequence[int],
    *,
    setting: RealtimeSetting,
    state: LicenseState,
    now: datetime,
    actor: str,
) -> list[Client]:
    """Set the switch of the given clients; one system event; commits."""
    if setting.on:
        decide(Product.CS, state, Operation.REALTIME_SCAN).raise_if_refused()
    clients = list(session.scalars(select(Client).where(Client.id.in_(list(client_ids)))))
    missing = set(client_ids) - {c.id for c in clients}
    if missing:
        raise ClientNotFound(client=", ".join(str(i) for i in sorted(missing)))
    for client in clients:
        row = _row_for(session, client.id, now=now)
        row.realtime_scan = setting.on
        row.realtime_folders = setting.folders
        row.updated_at = now
        row.updated_by = actor
    hosts = ", ".join(c.hostname for c in clients)
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="realtime.client_set",
        message={
            "ja": f"{actor}がリアルタイム検索を {_describe(setting, 'ja')}にしました: {hosts}",
            "en": f"{actor} set real-time scan {_describe(setting, 'en')} for: {hosts}",
        },
        details={
            "clients": [c.uid for c in clients],
            "realtime_scan": setting.on,
            "realtime_folders": setting.folders,
            "actor": actor,
        },
    )
    session.commit()
    return clients


def set_realtime_defaults(
    session: Session, *, setting: RealtimeSetting, state: LicenseState, now: datetime, actor: str
) -> int:
    """Change the default for new clients; existing clients keep theirs. Returns how many
    clients were pinned to the old defaults. One system event; commits."""
    if setting.on:
        decide(Product.CS, state, Operation.REALTIME_SCAN).raise_if_refused()
    have = select(ClientRealtime.client_id)
    unpinned = list(session.scalars(select(Client.id).where(Client.id.not_in(have))))
    for client_id in unpinned:
        _row_for(session, client_id, now=now)
    row = session.get(RealtimeDefaults, DEFAULTS_ID)
    if row is None:
        row = RealtimeDefaults(id=DEFAULTS_ID, updated_at=now, updated_by=actor)
        session.add(row)
    row.realtime_scan = setting.on
    row.realtime_folders = setting.folders
    row.updated_at = now
    row.updated_by = actor
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="realtime.default_set",
        message={
            "ja": f"{actor}が新しいクライアントのリアルタイム検索の既定値を"
            f" {_describe(setting, 'ja')}にしました。",
            "en": f"{actor} set the real-time scan default for new clients to"
            f" {_describe(setting, 'en')}.",
        },
        details={
            "realtime_scan": setting.on,
            "realtime_folders": setting.folders,
            "pinned_clients": len(unpinned),
            "actor": actor,
        },
    )
    session.commit()
    return len(unpinned)
