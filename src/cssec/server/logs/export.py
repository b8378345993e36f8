"""CSV export of the log pages: the same filters as the page, every matching row, newest
first, streamed in batches (no log is ever held in memory whole).

UTF-8 with a BOM, CRLF line ends: what Excel in Japan opens without garbling. Cells that a
spreadsheet would run as a formula (starting with = + - @ or a tab/CR) are prefixed with an
apostrophe, so a file name reported by a client cannot become a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from cssec.server.logs.client_logs import like
from cssec.server.logs.events import LEVEL_LABELS, Level
from cssec.server.logs.labels import (
    SCAN_TYPE_LABELS,
    VIRUS_ACTION_LABELS,
    component_label,
    connection_result_label,
    error_label,
    event_kind_label,
    label_of,
    request_label,
)
from cssec.server.logs.update_logs import (
    RESULT_LABELS,
    TRIGGER_LABELS,
    client_message,
    versions_text,
)
from cssec.server.models import ClientUpdateLog, ServerUpdateLog, SystemEvent

BOM = "\ufeff"
BATCH = 500
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def event_query(*, kind_prefix: str = "", level: str = "") -> Select[Any]:
    query = select(SystemEvent)
    if kind_prefix:
        prefix = kind_prefix.replace("\\", "").replace("%", "").replace("_", r"\_")
        query = query.where(SystemEvent.kind.like(prefix + "%", escape="\\"))
    if level:
        query = query.where(SystemEvent.level == level)
    return query


def server_update_query(*, result: str = "") -> Select[Any]:
    query = select(ServerUpdateLog)
    if result:
        query = query.where(ServerUpdateLog.result == result)
    return query


def client_update_query(*, result: str = "", hostname: str = "") -> Select[Any]:
    query = select(ClientUpdateLog)
    if result:
        query = query.where(ClientUpdateLog.result == result)
    if hostname:
        query = query.where(ClientUpdateLog.hostname.ilike(like(hostname), escape="\\"))
    return query


@dataclass(frozen=True)
class Sheet:
    """One export: its file name, its header cells (the msgids of the page's column headers,
    so the file says what the screen says), and how a row becomes cells in a language."""

    name: str
    headers: Sequence[str]
    cells: Callable[[Any, str, Callable[[Any], str]], Sequence[Any]]


def _time(tz: tzinfo) -> Callable[[Any], str]:
    return lambda value: value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _pick(label: dict[str, str], lang: str) -> str:
    return label["en" if lang == "en" else "ja"]


def _result(value: str, lang: str) -> str:
    if value in RESULT_LABELS:
        return _pick(RESULT_LABELS[value], lang)
    return label_of({}, value, lang)


SHEETS: dict[str, Sheet] = {
    "virus": Sheet(
        "virus-log",
        [
            "Date and time",
            "Host name",
            "IP address",
            "Client ID",
            "Threat",
            "File",
            "Action",
            "Scan type",
            "Component",
            "Pattern version",
            "Rule",
            "SHA-256",
        ],
        lambda r, lang, t: [
            t(r.at),
            r.hostname,
            r.ip or "",
            r.client_uid or "",
            r.threat,
            r.path,
            label_of(VIRUS_ACTION_LABELS, r.action, lang),
            label_of(SCAN_TYPE_LABELS, r.scan_type, lang),
            component_label(r.component, lang),
            r.component_version,
            r.rule,
            r.sha256,
        ],
    ),
    "connection": Sheet(
        "connection-log",
        ["Date and time", "Host name", "IP address", "Request", "Result"],
        lambda r, lang, t: [
            t(r.at),
            r.hostname,
            r.ip,
            request_label(r.action, lang),
            connection_result_label(r.status, lang),
        ],
    ),
    "system_events": Sheet(
        "system-events",
        ["Date and time", "Level", "Event", "Message"],
        lambda r, lang, t: [
            t(r.at),
            LEVEL_LABELS[Level(r.level)][lang] if r.level in set(Level) else r.level,
            event_kind_label(r.kind, lang),
            r.message_en if lang == "en" else r.message_ja,
        ],
    ),
    "update_server": Sheet(
        "update-log-server",
        ["Date and time", "Trigger", "Actor", "Result", "Cause", "Serial", "Versions", "Message"],
        lambda r, lang, t: [
            t(r.at),
            _pick(TRIGGER_LABELS[r.trigger], lang) if r.trigger in TRIGGER_LABELS else r.trigger,
            r.actor,
            _result(r.result, lang),
            error_label(r.cause, lang) if r.cause else "",
            r.serial,
            versions_text(r.versions or {}, lang),
            r.message_en if lang == "en" else r.message_ja,
        ],
    ),
    "update_client": Sheet(
        "update-log-client",
        ["Date and time", "Host name", "Client ID", "Result", "Versions", "Message"],
        lambda r, lang, t: [
            t(r.at),
            r.hostname,
            r.client_id,
            _result(r.result, lang),
            versions_text(r.versions or {}, lang),
            client_message(r, lang),
        ],
    ),
}


def csv_line(cells: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return buffer.getvalue()


def stream_csv(
    sessions: sessionmaker[Session],
    sheet: Sheet,
    query: Select[Any],
    *,
    lang: str,
    tz: tzinfo,
    translate: Callable[[str], str] = str,
    batch: int = BATCH,
) -> Iterator[bytes]:
    """BOM and header (each through `translate`, the page's catalog), then every row, newest
    first, `batch` rows per query (keyset on id, so rows added during the export neither
    repeat nor shift the pages)."""
    lang = "en" if lang == "en" else "ja"
    entity = query.column_descriptions[0]["entity"]
    yield (BOM + csv_line([translate(h) for h in sheet.headers])).encode("utf-8")
    last_id: int | None = None
    fmt = _time(tz)
    while True:
        page = query.order_by(entity.id.desc()).limit(batch)
        if last_id is not None:
            page = page.where(entity.id < last_id)
        with sessions() as session:
            rows = list(session.scalars(page).all())
        if not rows:
            return
        yield "".join(csv_line(sheet.cells(r, lang, fmt)) for r in rows).encode("utf-8")
        last_id = rows[-1].id
