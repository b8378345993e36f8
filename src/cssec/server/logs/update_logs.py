"""The update logs: アップデートログ (サーバ) and アップデートログ (クライアント).

Rows are added inside the caller's transaction; both logs are appended to in every
license state (core.policy: log_append_update_server / log_append_update_client)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Operation, decide
from cssec.server.logs.gate import check_log_append
from cssec.server.models import ClientUpdateLog, ServerUpdateLog

T = TypeVar("T")


class UpdateResult(StrEnum):
    SUCCESS = "success"
    UP_TO_DATE = "up_to_date"
    FAILED = "failed"
    REFUSED = "refused"
    ROLLED_BACK = "rolled_back"


RESULT_LABELS: dict[str, dict[str, str]] = {
    UpdateResult.SUCCESS: {"ja": "成功", "en": "Succeeded"},
    UpdateResult.UP_TO_DATE: {"ja": "最新", "en": "Up to date"},
    UpdateResult.FAILED: {"ja": "失敗", "en": "Failed"},
    UpdateResult.REFUSED: {"ja": "拒否（ライセンス）", "en": "Refused (license)"},
    UpdateResult.ROLLED_BACK: {"ja": "ロールバック", "en": "Rolled back"},
}
CLIENT_RESULTS = (
    UpdateResult.SUCCESS,
    UpdateResult.UP_TO_DATE,
    UpdateResult.FAILED,
    UpdateResult.REFUSED,
)
TRIGGER_LABELS: dict[str, dict[str, str]] = {
    "install": {"ja": "インストール", "en": "Install"},
    "schedule": {"ja": "定期（1時間ごと）", "en": "Scheduled (hourly)"},
    "manual": {"ja": "今すぐアップデート", "en": "Update now"},
    "cli": {"ja": "コマンド", "en": "Command line"},
    "bundle": {"ja": "バンドルの取り込み", "en": "Bundle import"},
    "pilot": {"ja": "パイロットグループの障害", "en": "Pilot failures"},
}


def versions_text(versions: dict[str, Any], lang: str) -> str:
    parts = []
    for component in Component:
        value = versions.get(component.value)
        if value is not None:
            parts.append(f"{component.label(lang)} {value}")
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


# What a client reports after an update, by code: the Web manager renders these in the
# reader's language. {changes} and {versions} are built from the row.
CLIENT_MESSAGES: dict[str, dict[str, str]] = {
    "components_updated": {"ja": "更新しました: {changes}", "en": "Updated: {changes}"},
    "components_stepped_back": {
        "ja": "サーバがコンポーネントを戻したため、以前のバージョンに戻しました: {changes}",
        "en": "Went back to the previous versions as the server rolled back: {changes}",
    },
    "up_to_date": {"ja": "最新です: {versions}", "en": "Up to date: {versions}"},
    "license_expired": {
        "ja": "ライセンスの有効期限が切れているため、サーバがコンポーネントの配信を拒否しました。"
        "ライセンスを更新してください。",
        "en": "The server refused to distribute components because the license has expired. "
        "Renew the license.",
    },
    "license_revoked": {
        "ja": "ライセンスサーバでアクティベーションコードが失効処理されているため、サーバが"
        "コンポーネントの配信を拒否しました。法人お問合せ窓口にお問い合わせください。",
        "en": "The server refused to distribute components because the license server revoked "
        "the activation code. Contact corporate support.",
    },
    "license_rejected": {
        "ja": "ライセンスサーバがアクティベーションコードを無効と回答したため、サーバが"
        "コンポーネントの配信を拒否しました。法人お問合せ窓口にお問い合わせください。",
        "en": "The server refused to distribute components because the license server refused "
        "the activation code. Contact corporate support.",
    },
    "server_unreachable": {
        "ja": "クライアントがサーバに接続できませんでした。",
        "en": "The client could not reach the server.",
    },
    "server_error": {
        "ja": "サーバの応答を読み取れませんでした。",
        "en": "The server's answer could not be read.",
    },
    "manifest_rejected": {
        "ja": "コンポーネント一覧の署名を検証できないため、更新しませんでした。",
        "en": "The component list's signature could not be verified; nothing was updated.",
    },
    "component_rejected": {
        "ja": "ダウンロードしたファイルを検証できないため、更新しませんでした。",
        "en": "A downloaded file could not be verified; nothing was updated.",
    },
    "components_unavailable": {
        "ja": "サーバにまだコンポーネントがありません。",
        "en": "The server has no components yet.",
    },
    "server_certificate_mismatch": {
        "ja": "サーバの証明書がインストール時と異なるため、接続しませんでした。",
        "en": "The server's certificate differs from the one pinned at install; not connected.",
    },
}


def changes_text(changes: dict[str, Any], versions: dict[str, Any], lang: str) -> str:
    """Reads 「ウイルスパターンファイル 1 → 2、検索エンジン 3（新規）」, from {component: old}."""
    parts = []
    for component in Component:
        if component.value not in changes:
            continue
        old, new = changes[component.value], versions.get(component.value, "?")
        label = component.label(lang)
        if old is None:
            parts.append(f"{label} {new}（新規）" if lang == "ja" else f"{label} {new} (new)")
        else:
            parts.append(f"{label} {old} → {new}")
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


def client_message(row: Any, lang: str) -> str:
    """A client update log row's message in `lang`: rendered from its code when it has a
    known one, else the text the client sent (rows from older clients and servers)."""
    lang = "en" if lang.startswith("en") else "ja"
    code = getattr(row, "message_code", None)
    template = CLIENT_MESSAGES.get(code or "")
    if template is None:
        return str(row.message or "-")
    params = row.message_params or {}
    versions = row.versions or {}
    return template[lang].format(
        changes=changes_text(params, versions, lang) or "-",
        versions=versions_text(versions, lang) or "-",
    )


def add_server_log(
    session: Session,
    *,
    at: datetime,
    trigger: str,
    actor: str,
    result: UpdateResult,
    message: dict[str, str],
    cause: str | None = None,
    serial: int | None = None,
    versions: dict[Component, int] | None = None,
) -> ServerUpdateLog:
    check_log_append(session, Operation.LOG_APPEND_UPDATE_SERVER, at)
    row = ServerUpdateLog(
        at=at,
        trigger=trigger[:16],
        actor=actor[:64],
        result=result.value,
        cause=cause[:64] if cause else None,
        serial=serial,
        versions={c.value: v for c, v in (versions or {}).items()},
        message_ja=message["ja"],
        message_en=message["en"],
    )
    session.add(row)
    return row


def add_client_log(
    session: Session,
    *,
    at: datetime,
    client_id: str,
    hostname: str,
    result: UpdateResult,
    versions: dict[str, int],
    message: str,
    state: LicenseState,
    message_code: str | None = None,
    message_params: dict[str, Any] | None = None,
) -> ClientUpdateLog:
    # Always allowed; asked anyway so the policy table stays the one place.
    decide(Product.CS, state, Operation.LOG_APPEND_UPDATE_CLIENT).raise_if_refused()
    row = ClientUpdateLog(
        at=at,
        client_id=client_id[:64],
        hostname=hostname[:255],
        result=result.value,
        versions=versions,
        message=message,
        message_code=message_code[:64] if message_code else None,
        message_params=message_params,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class LogPage(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page(session: Session, query: Select[Any], order: Any, page: int, per_page: int) -> Any:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(order).offset((page - 1) * per_page).limit(per_page))
    return LogPage(rows=list(rows), total=total, page=page, per_page=per_page)


def list_server_log(
    session: Session, *, page: int = 1, per_page: int = 50, result: str | None = None
) -> LogPage[ServerUpdateLog]:
    """Newest first (by insertion, which a clock set back cannot reorder)."""
    query = select(ServerUpdateLog)
    if result:
        query = query.where(ServerUpdateLog.result == result)
    out: LogPage[ServerUpdateLog] = _page(session, query, ServerUpdateLog.id.desc(), page, per_page)
    return out


def list_client_log(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 50,
    result: str | None = None,
    hostname: str | None = None,
) -> LogPage[ClientUpdateLog]:
    query = select(ClientUpdateLog)
    if result:
        query = query.where(ClientUpdateLog.result == result)
    if hostname:
        like = hostname.replace("\\", "").replace("%", r"\%").replace("_", r"\_")
        query = query.where(ClientUpdateLog.hostname.like(f"%{like}%", escape="\\"))
    out: LogPage[ClientUpdateLog] = _page(session, query, ClientUpdateLog.id.desc(), page, per_page)
    return out


def latest_server_log(session: Session) -> ServerUpdateLog | None:
    return session.scalar(select(ServerUpdateLog).order_by(ServerUpdateLog.id.desc()).limit(1))
