"""アウトブレークモニタ (outbreak monitor): watch the virus log for an outbreak.

When at least `min_detections` detections from at least `min_clients` clients arrive within
`window_minutes` (on the injected clock), the monitor raises an alert (table
`outbreak_alerts`, a system event, the dashboard banner) and, after the request committed,
notifies a webhook and/or mail recipients (`outbreak.notify`). One outbreak raises one alert:
within the cool-down after an alert nothing new is raised, and after it only detections that
arrived since the last alert count towards the next one.

Using the monitor is `outbreak_monitor` in `core.policy` (allowed in every state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError, NotFound
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.logs.events import Level, add_event
from cssec.server.models import OutbreakAlert, OutbreakMonitorSettings, VirusLogEntry

DEFAULTS = {
    "enabled": True,
    "min_detections": 10,
    "min_clients": 2,
    "window_minutes": 60,
    "cooldown_minutes": 60,
    "smtp_port": 25,
}
MAX_THREATS_SHOWN = 20


class InvalidMonitorSetting(CssecError):
    code = "invalid_outbreak_monitor_setting"
    status = 422
    message_ja = (
        "アウトブレークモニタの設定を保存できませんでした: {detail_ja}"
        " 値を直して、もう一度保存してください。"
    )
    message_en = (
        "The outbreak monitor settings were not saved: {detail_en}"
        " Correct the value and save again."
    )


def read_monitor(session: Session) -> OutbreakMonitorSettings:
    """The settings row (the defaults, unsaved, when none was ever saved)."""
    row = session.get(OutbreakMonitorSettings, 1)
    if row is None:
        row = OutbreakMonitorSettings(id=1, **DEFAULTS)
    return row


@dataclass(frozen=True)
class MonitorForm:
    enabled: bool
    min_detections: int
    min_clients: int
    window_minutes: int
    cooldown_minutes: int
    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = ""
    mail_to: str = ""


def _invalid(ja: str, en: str) -> InvalidMonitorSetting:
    return InvalidMonitorSetting(detail_ja=ja, detail_en=en)


def _address(value: str) -> bool:
    _name, addr = parseaddr(value)
    return bool(addr) and "@" in addr and " " not in addr and "\n" not in value


def recipients(mail_to: str | None) -> list[str]:
    return [part.strip() for part in (mail_to or "").replace(";", ",").split(",") if part.strip()]


def validate(form: MonitorForm) -> MonitorForm:
    ranges = (
        (form.min_detections, 1, 100_000, "検出数", "the number of detections"),
        (form.min_clients, 1, 100_000, "クライアント数", "the number of clients"),
        (form.window_minutes, 1, 7 * 24 * 60, "監視時間 (分)", "the period (minutes)"),
        (form.cooldown_minutes, 0, 7 * 24 * 60, "再通知までの時間 (分)", "the cool-down (minutes)"),
        (form.smtp_port, 1, 65535, "SMTP ポート", "the SMTP port"),
    )
    for value, low, high, ja, en in ranges:
        if not low <= value <= high:
            raise _invalid(f"{ja}は {low}〜{high}です。", f"{en} must be {low} to {high}.")
    url = form.webhook_url.strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 500:
            raise _invalid(
                "Webhookの URLは http:// または https:// で始まる URLです。",
                "the webhook URL must be an http:// or https:// URL.",
            )
    to = recipients(form.mail_to)
    if any(not _address(a) for a in to) or len(form.mail_to) > 1000:
        raise _invalid(
            "通知先のメールアドレスが正しくありません。", "a recipient address is not valid."
        )
    if to and not (form.smtp_host.strip() and _address(form.mail_from.strip())):
        raise _invalid(
            "メールで通知するには SMTP サーバと送信元アドレスも入力してください。",
            "to notify by mail, also give the SMTP server and the sender address.",
        )
    if any(c in form.smtp_host for c in " /\n") or len(form.smtp_host) > 255:
        raise _invalid("SMTP サーバ名が正しくありません。", "the SMTP server name is not valid.")
    return form


def update_monitor(
    session: Session, form: MonitorForm, *, now: datetime, state: LicenseState, actor: str
) -> OutbreakMonitorSettings:
    """Save the settings; commits with a system event."""
    decide(Product.CS, state, Operation.OUTBREAK_MONITOR).raise_if_refused()
    form = validate(form)
    row = session.get(OutbreakMonitorSettings, 1)
    if row is None:
        row = read_monitor(session)
        session.add(row)
    row.enabled = form.enabled
    row.min_detections = form.min_detections
    row.min_clients = form.min_clients
    row.window_minutes = form.window_minutes
    row.cooldown_minutes = form.cooldown_minutes
    row.webhook_url = form.webhook_url.strip() or None
    row.smtp_host = form.smtp_host.strip() or None
    row.smtp_port = form.smtp_port
    row.mail_from = form.mail_from.strip() or None
    row.mail_to = ", ".join(recipients(form.mail_to)) or None
    row.updated_at = now
    row.updated_by = actor[:64]
    on = {"ja": "有効" if form.enabled else "無効", "en": "on" if form.enabled else "off"}
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="outbreak.monitor_settings",
        message={
            "ja": f"{actor}がアウトブレークモニタを設定しました ({on['ja']}: "
            f"{form.window_minutes} 分以内に {form.min_clients} 台以上で"
            f" {form.min_detections} 件以上)。",
            "en": f"{actor} set the outbreak monitor ({on['en']}: {form.min_detections} or "
            f"more detections on {form.min_clients} or more clients within "
            f"{form.window_minutes} min).",
        },
        details={
            "actor": actor,
            "enabled": form.enabled,
            "webhook": bool(row.webhook_url),
            "mail": bool(row.mail_to),
        },
    )
    session.commit()
    return row


def latest_alert(session: Session) -> OutbreakAlert | None:
    return session.scalar(select(OutbreakAlert).order_by(OutbreakAlert.id.desc()).limit(1))


def check_outbreak(session: Session, *, now: datetime, state: LicenseState) -> OutbreakAlert | None:
    """Evaluate the window ending `now` after virus-log entries were committed; raise and
    commit an alert (with its system event) when the threshold is crossed anew."""
    decide(Product.CS, state, Operation.OUTBREAK_MONITOR).raise_if_refused()
    settings = read_monitor(session)
    if not settings.enabled:
        return None
    start = now - timedelta(minutes=settings.window_minutes)
    last = latest_alert(session)
    if last is not None:
        if now - last.raised_at < timedelta(minutes=settings.cooldown_minutes):
            return None
        start = max(start, last.raised_at)
    in_window = (VirusLogEntry.at > start, VirusLogEntry.at <= now)
    detections = session.scalar(select(func.count()).where(*in_window)) or 0
    if detections < settings.min_detections:
        return None
    pairs: list[tuple[int | None, str]] = list(
        session.execute(
            select(VirusLogEntry.client_id, VirusLogEntry.hostname).where(*in_window).distinct()
        )
    )
    clients = len({cid if cid is not None else f"host:{host}" for cid, host in pairs})
    hosts = sorted({host for _, host in pairs})
    if clients < settings.min_clients:
        return None
    threats = dict(
        session.execute(
            select(VirusLogEntry.threat, func.count())
            .where(*in_window)
            .group_by(VirusLogEntry.threat)
            .order_by(func.count().desc(), VirusLogEntry.threat)
            .limit(MAX_THREATS_SHOWN)
        ).all()
    )
    alert = OutbreakAlert(
        raised_at=now,
        window_start=start,
        detections=detections,
        clients=clients,
        threats={str(k): int(v) for k, v in threats.items()},
        hostnames=hosts[:100],
        threshold={
            "min_detections": settings.min_detections,
            "min_clients": settings.min_clients,
            "window_minutes": settings.window_minutes,
        },
    )
    session.add(alert)
    session.flush()
    names = ", ".join(list(threats)[:5])
    add_event(
        session,
        at=now,
        level=Level.WARNING,
        kind="outbreak.alert",
        message=alert_message(alert, names),
        details={"alert": alert.id, "detections": detections, "clients": clients},
    )
    session.commit()
    return alert


def alert_message(alert: OutbreakAlert, names: str | None = None) -> dict[str, str]:
    names = names if names is not None else ", ".join(list(alert.threats)[:5])
    minutes = int(alert.threshold.get("window_minutes", 0))
    return {
        "ja": f"アウトブレークの可能性があります: {minutes} 分以内に {alert.clients} 台の"
        f"クライアントで {alert.detections} 件のウイルスを検出しました ({names})。"
        "ウイルスログを確認し、必要なら大規模感染予防を配信してください。",
        "en": f"Possible outbreak: {alert.detections} detections on {alert.clients} clients "
        f"within {minutes} min ({names}). Check the virus log and deploy outbreak "
        "prevention if needed.",
    }


def open_alerts(session: Session, *, limit: int = 5) -> list[OutbreakAlert]:
    query = (
        select(OutbreakAlert)
        .where(OutbreakAlert.acknowledged_at.is_(None))
        .order_by(OutbreakAlert.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query).all())


def list_alerts(
    session: Session, *, page: int = 1, per_page: int = 50
) -> tuple[list[OutbreakAlert], int]:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(OutbreakAlert)) or 0
    rows = session.scalars(
        select(OutbreakAlert)
        .order_by(OutbreakAlert.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def acknowledge_alert(
    session: Session, alert_id: int, *, now: datetime, state: LicenseState, actor: str
) -> OutbreakAlert:
    decide(Product.CS, state, Operation.OUTBREAK_MONITOR).raise_if_refused()
    alert = session.get(OutbreakAlert, alert_id)
    if alert is None:
        raise NotFound()
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = actor[:64]
        add_event(
            session,
            at=now,
            level=Level.INFO,
            kind="outbreak.acknowledged",
            message={
                "ja": f"{actor}がアウトブレークの警告 (#{alert.id})を確認済みにしました。",
                "en": f"{actor} acknowledged outbreak alert #{alert.id}.",
            },
            details={"alert": alert.id, "actor": actor},
        )
        session.commit()
    return alert
