"""Telling someone about an outbreak alert: a webhook (POST JSON) and/or mail (SMTP).

Runs after the request that raised the alert committed (a background task), so a slow or
broken receiver never delays or fails a client's report. A failure is written to the
server log and as a system event (`outbreak.notify_failed`), and the alert records what
was sent.

Mail goes through the administrator's mail (`notices`): a notice keyed by the alert (sent
once), in the administrator's language, by `notices.mailer.send_mail`. The SMTP server and
recipients are the outbreak monitor's own when it names them, else those of 運用管理 →
メール通知.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import BackgroundTasks
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.core.license import LicenseState
from cssec.server.context import ServerContext
from cssec.server.logs.events import Level, add_event
from cssec.server.models import OutbreakAlert, OutbreakMonitorSettings
from cssec.server.notices.mailer import Security, SmtpConfig, read_mail_settings, smtp_config
from cssec.server.notices.service import deliver_pending, record_notice, register_route
from cssec.server.outbreak.monitor import (
    alert_message,
    check_outbreak,
    read_monitor,
    recipients,
)

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


def _z(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def webhook_payload(alert: OutbreakAlert) -> dict[str, Any]:
    return {
        "event": "cssec.outbreak_alert",
        "alert_id": alert.id,
        "raised_at": _z(alert.raised_at),
        "window_start": _z(alert.window_start),
        "detections": alert.detections,
        "clients": alert.clients,
        "threats": dict(alert.threats),
        "hostnames": list(alert.hostnames),
        "threshold": dict(alert.threshold),
        "message": alert_message(alert),
    }


def alert_notice(alert: OutbreakAlert) -> tuple[dict[str, str], dict[str, str]]:
    """The alert's mail subject and body, in Japanese and in English."""
    message = alert_message(alert)
    threats = "\n".join(f"  {name}: {count}" for name, count in alert.threats.items())
    hosts = ", ".join(alert.hostnames)
    raised = f"{alert.raised_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
    subject = {
        "ja": f"アウトブレーク警告 #{alert.id}",
        "en": f"Outbreak alert #{alert.id}",
    }
    body = {
        "ja": (
            f"{message['ja']}\n\n警告: #{alert.id}\n発生日時 (UTC): {raised}\n"
            f"検出数: {alert.detections}\nクライアント数: {alert.clients}\n"
            f"ウイルス:\n{threats}\nホスト: {hosts}\n"
        ),
        "en": (
            f"{message['en']}\n\nAlert: #{alert.id}\nRaised at (UTC): {raised}\n"
            f"Detections: {alert.detections}\nClients: {alert.clients}\n"
            f"Threats:\n{threats}\nHosts: {hosts}\n"
        ),
    }
    return subject, body


def mail_route(session: Session, settings: OutbreakMonitorSettings) -> SmtpConfig | None:
    """The monitor's own SMTP server and recipients when it names them, else the
    administrator's mail settings; None when neither is set up."""
    to = recipients(settings.mail_to)
    if settings.smtp_host and to:
        return SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=Security.NONE,
            username=None,
            password=None,
            sender=settings.mail_from or "",
            recipients=to,
        )
    return smtp_config(read_mail_settings(session))


register_route("outbreak.alert", lambda session: mail_route(session, read_monitor(session)))
"""A retried alert goes the way its first attempt went."""


async def _mail_alert(
    sessions: sessionmaker[Session], clock: Clock, alert: OutbreakAlert, route: SmtpConfig
) -> str:
    key = f"outbreak.alert:{alert.id}"
    subject, body = alert_notice(alert)
    with sessions() as session:
        record_notice(
            session, key=key, kind="outbreak.alert", at=clock.now(), subject=subject, body=body
        )
        session.commit()
    result = await deliver_pending(sessions, clock, config=route, keys=[key])
    return result.get(key, "ok")  # absent: sent before, once per alert


async def notify_alert(
    sessions: sessionmaker[Session],
    clock: Clock,
    alert_id: int,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    proxy: str | None = None,
) -> dict[str, str]:
    """Send the alert to the configured webhook and mail recipients; never raises."""
    with sessions() as session:
        settings = read_monitor(session)
        route = mail_route(session, settings)
        alert = session.get(OutbreakAlert, alert_id)
        if alert is None:
            return {}
        session.expunge(alert)
    outcome: dict[str, str] = {}
    if settings.webhook_url:
        try:
            async with httpx.AsyncClient(
                transport=transport, proxy=proxy, timeout=TIMEOUT_SECONDS
            ) as http:
                response = await http.post(settings.webhook_url, json=webhook_payload(alert))
            outcome["webhook"] = (
                "ok" if response.is_success else f"failed: HTTP {response.status_code}"
            )
        except httpx.HTTPError as exc:
            outcome["webhook"] = f"failed: {type(exc).__name__}"
    if route is not None:
        outcome["mail"] = await _mail_alert(sessions, clock, alert, route)
    if outcome:
        _record(sessions, clock, alert_id, outcome)
    return outcome


def _record(
    sessions: sessionmaker[Session], clock: Clock, alert_id: int, outcome: dict[str, str]
) -> None:
    summary = "; ".join(f"{k}: {v}" for k, v in outcome.items())
    failed = {k: v for k, v in outcome.items() if v != "ok"}
    with sessions() as session:
        alert = session.get(OutbreakAlert, alert_id)
        if alert is not None:
            alert.notified = summary[:2000]
        if failed:
            log.warning("outbreak alert %s: notification failed: %s", alert_id, failed)
            what = ", ".join(f"{k} ({v})" for k, v in failed.items())
            add_event(
                session,
                at=clock.now(),
                level=Level.ERROR,
                kind="outbreak.notify_failed",
                message={
                    "ja": f"アウトブレークの警告 #{alert_id}を通知できませんでした: {what}。"
                    "[アウトブレークモニタ]の Webhook / SMTPの設定と接続先を確認してください。",
                    "en": f"Outbreak alert #{alert_id} could not be sent: {what}. Check the "
                    "webhook and SMTP settings of the outbreak monitor and the receiver.",
                },
                details={"alert": alert_id, **failed},
            )
        session.commit()


def watch_virus_log(
    ctx: ServerContext,
    session: Session,
    background: BackgroundTasks,
    *,
    now: datetime,
    state: LicenseState,
) -> OutbreakAlert | None:
    """The hook after virus-log entries were committed: evaluate the outbreak monitor and,
    when it raised an alert, notify after the response (never blocking the request)."""
    alert = check_outbreak(session, now=now, state=state)
    if alert is not None:
        background.add_task(notify_alert, ctx.sessionmaker, ctx.clock, alert.id)
    return alert
