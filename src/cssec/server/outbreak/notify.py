"""Telling someone about an outbreak alert: a webhook (POST JSON) and/or mail (SMTP).

Runs after the request that raised the alert committed (a background task), so a slow or
broken receiver never delays or fails a client's report. A failure is written to the
server log and as a system event (`outbreak.notify_failed`), and the alert records what
was sent.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import httpx
from fastapi import BackgroundTasks
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.core.license import LicenseState
from cssec.server.context import ServerContext
from cssec.server.logs.events import Level, add_event
from cssec.server.models import OutbreakAlert, OutbreakMonitorSettings
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


def build_alert_mail(settings: OutbreakMonitorSettings, alert: OutbreakAlert) -> EmailMessage:
    """A UTF-8 message, Japanese first then English, to every configured recipient."""
    message = alert_message(alert)
    mail = EmailMessage()
    mail["Subject"] = f"[C/S Sec.] アウトブレーク警告 / Outbreak alert #{alert.id}"
    mail["From"] = settings.mail_from or ""
    mail["To"] = ", ".join(recipients(settings.mail_to))
    mail["Date"] = format_datetime(alert.raised_at)
    mail["Message-ID"] = make_msgid(domain="cssec.invalid")
    threats = "\n".join(f"  {name}: {count}" for name, count in alert.threats.items())
    hosts = ", ".join(alert.hostnames)
    mail.set_content(
        f"{message['ja']}\n\n{message['en']}\n\n"
        f"Alert: #{alert.id}\nRaised at (UTC): {_z(alert.raised_at)}\n"
        f"Detections: {alert.detections}\nClients: {alert.clients}\n"
        f"Threats:\n{threats}\nHosts: {hosts}\n",
        charset="utf-8",
    )
    return mail


def _send_mail(host: str, port: int, mail: EmailMessage) -> None:
    with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
        smtp.send_message(mail)


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
    if settings.mail_to and settings.smtp_host:
        try:
            mail = build_alert_mail(settings, alert)
            await asyncio.to_thread(_send_mail, settings.smtp_host, settings.smtp_port, mail)
            outcome["mail"] = "ok"
        except (OSError, smtplib.SMTPException) as exc:
            outcome["mail"] = f"failed: {type(exc).__name__}"
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
                    "ja": f"アウトブレークの警告 #{alert_id} を通知できませんでした: {what}。"
                    "[アウトブレークモニタ] の Webhook / SMTP の設定と接続先を確認してください。",
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
