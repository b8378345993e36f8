"""Notices for the administrator: decided inside a transaction, mailed after it committed.

`record_notice` adds a `MailNotice` in the caller's transaction, keyed by its occasion
(e.g. ``license.expiring:CS:2027-11-26:30``): a key already recorded is not recorded again,
so each notice goes out once however often the deciding code runs. `deliver_pending`
runs after the commit (a background task, the scheduler's tick): it claims the pending
notices, sends each in the administrator's language through `mailer.send_mail` in a
thread, and records the outcome. A failing SMTP server is a system event
(`mail.send_failed`) and a `failed` notice, never an exception in the request or the
license work that raised the notice. With mail not set up, notices are kept as `unsent`
(a later configuration does not flood the inbox with old news).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.server.logs.events import Level, add_event
from cssec.server.models import MailNotice
from cssec.server.notices.mailer import (
    SmtpConfig,
    admin_language,
    build_mail,
    describe_failure,
    read_mail_settings,
    send_mail,
    smtp_config,
)

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, UNSENT = "pending", "sending", "sent", "failed", "unsent"


def record_notice(
    session: Session,
    *,
    key: str,
    kind: str,
    at: datetime,
    subject: dict[str, str],
    body: dict[str, str],
) -> MailNotice | None:
    """Remember a notice for this occasion (None when it was already recorded). In the
    caller's transaction; the mail goes out after it commits (`deliver_pending`)."""
    if session.scalar(select(MailNotice.id).where(MailNotice.key == key)) is not None:
        return None
    notice = MailNotice(
        key=key[:200],
        kind=kind,
        created_at=at,
        subject_ja=subject["ja"][:500],
        subject_en=subject["en"][:500],
        body_ja=body["ja"],
        body_en=body["en"],
        status=PENDING,
    )
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:  # recorded by a concurrent writer meanwhile
        return None
    return notice


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    kind: str
    subject: str
    body: str
    created_at: datetime


async def deliver_pending(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    config: SmtpConfig | None = None,
    keys: list[str] | None = None,
) -> dict[str, str]:
    """Send every pending notice (or only `keys`); returns key -> "ok" / "failed: …" /
    "unsent". `config` overrides the stored SMTP settings (the outbreak monitor's own
    server). Never raises for SMTP or network trouble."""
    with sessions() as session:
        settings_config = smtp_config(read_mail_settings(session))
        config = config or settings_config
        lang = admin_language(session)
        query = select(MailNotice).where(MailNotice.status == PENDING).order_by(MailNotice.id)
        if keys is not None:
            query = query.where(MailNotice.key.in_(keys))
        rows = list(session.scalars(query))
        outcome: dict[str, str] = {}
        claimed: list[_Claimed] = []
        for row in rows:
            target = UNSENT if config is None else SENDING
            done = session.execute(
                update(MailNotice)
                .where(MailNotice.id == row.id, MailNotice.status == PENDING)
                .values(status=target)
            )
            if getattr(done, "rowcount", 0) != 1:
                continue  # another deliverer took it
            if config is None:
                outcome[row.key] = UNSENT
                continue
            claimed.append(
                _Claimed(
                    id=row.id,
                    key=row.key,
                    kind=row.kind,
                    subject=row.subject_en if lang == "en" else row.subject_ja,
                    body=row.body_en if lang == "en" else row.body_ja,
                    created_at=row.created_at,
                )
            )
        session.commit()
    if config is None or not claimed:
        return outcome
    results: dict[int, str | None] = {}
    for notice in claimed:
        mail = build_mail(config, subject=notice.subject, body=notice.body, at=clock.now())
        try:
            await asyncio.to_thread(send_mail, config, mail)
            results[notice.id] = None
            outcome[notice.key] = "ok"
        except (OSError, smtplib.SMTPException) as exc:
            cause = describe_failure(exc)
            results[notice.id] = cause
            outcome[notice.key] = f"failed: {cause}"
            log.warning("mail notice %s not sent: %s", notice.key, cause)
    _record_results(sessions, clock, claimed, results, config)
    return outcome


def _record_results(
    sessions: sessionmaker[Session],
    clock: Clock,
    claimed: list[_Claimed],
    results: dict[int, str | None],
    config: SmtpConfig,
) -> None:
    now = clock.now()
    with sessions() as session:
        for notice in claimed:
            row = session.get(MailNotice, notice.id)
            if row is None:
                continue
            cause = results.get(notice.id)
            row.status = SENT if cause is None else FAILED
            row.sent_at = now if cause is None else None
            row.error = cause
            if cause is not None:
                mail_failed_event(session, now=now, config=config, cause=cause, what=notice.kind)
        session.commit()


def mail_failed_event(
    session: Session, *, now: datetime, config: SmtpConfig, cause: str, what: str
) -> None:
    """The system event of a mail the SMTP server did not take (nothing else changes)."""
    server = f"{config.host}:{config.port}"
    add_event(
        session,
        at=now,
        level=Level.ERROR,
        kind="mail.send_failed",
        message={
            "ja": (
                f"管理者へのメール ({what}) を送信できませんでした (SMTP サーバ {server}: "
                f"{cause})。[運用管理] → [メール通知] の設定と SMTP サーバを確認してください。"
                "ライセンスやその他の動作には影響ありません。"
            ),
            "en": (
                f"The mail to the administrator ({what}) could not be sent (SMTP server "
                f"{server}: {cause}). Check Administration → Mail notifications and the SMTP "
                "server. The license and everything else are unaffected."
            ),
        },
        details={"kind": what, "smtp": server, "cause": cause},
    )
