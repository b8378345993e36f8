"""Notices for the administrator: decided inside a transaction, mailed after it committed.

`record_notice` adds a `MailNotice` in the caller's transaction, keyed by its occasion
(e.g. ``license.expiring:CS:2027-11-26:30``): a key already recorded is not recorded again,
so each notice goes out once however often the deciding code runs. `deliver_pending`
runs after the commit (a background task, the scheduler's tick): it claims the notices
that are due, sends each in the administrator's language through `mailer.send_mail` in a
thread, and records the outcome. With mail not set up, notices are kept as `unsent` (a
later configuration does not flood the inbox with old news).

Durable: a notice is a row from the moment it is decided. One the SMTP server did not take
(refused, unreachable, TLS failure) stays `pending` and is retried on `BACKOFF` (1 min up
to 24 h, eight attempts over almost two days) before it is `failed`; each failed attempt
is a system event (`mail.send_failed`, saying when the next try is), never an exception
in the request or the license work that raised the notice. A claim is a lease
(`LEASE`): a server stopped mid-send leaves the notice `sending` until the lease ends,
and the next start's tick sends it again. Saving the mail settings makes every waiting
notice due at once (`retry_now`).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.server.logs.events import Level, add_event
from cssec.server.models import MailNotice
from cssec.server.notices.mailer import (
    CERTIFICATE_UNTRUSTED,
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


BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
"""The wait after the 1st, 2nd, … failed attempt; after the last one the notice fails."""
LEASE = timedelta(minutes=5)
"""How long a claimed notice is left to its sender (longer than any one attempt)."""

Route = Callable[[Session], SmtpConfig | None]
_ROUTES: dict[str, Route] = {}


def register_route(kind: str, route: Route) -> None:
    """Notices of `kind` go through `route`'s SMTP server and recipients, not the
    administrator's mail settings (the outbreak monitor's own), retries included."""
    _ROUTES[kind] = route


def retry_after(attempts: int) -> timedelta | None:
    """The wait after `attempts` failed attempts in a row (None: give up)."""
    return BACKOFF[attempts - 1] if 1 <= attempts <= len(BACKOFF) else None


@dataclass(frozen=True)
class ClaimedNotice:
    """A notice leased to this sender, in the administrator's language, and its route."""

    id: int
    key: str
    kind: str
    subject: str
    body: str
    created_at: datetime
    attempts: int
    config: SmtpConfig


def _due(now: datetime) -> ColumnElement[bool]:
    waiting = and_(
        MailNotice.status == PENDING,
        or_(MailNotice.next_attempt_at.is_(None), MailNotice.next_attempt_at <= now),
    )
    abandoned = and_(MailNotice.status == SENDING, MailNotice.lease_until < now)
    return or_(waiting, abandoned)


def claim_due(
    session: Session,
    *,
    now: datetime,
    config: SmtpConfig | None = None,
    keys: list[str] | None = None,
) -> tuple[list[ClaimedNotice], dict[str, str]]:
    """Lease the notices due at `now` (or only `keys`) to this sender, in the caller's
    transaction (the caller commits); a notice without an SMTP route becomes `unsent`.
    Returns the claimed notices and the keys set `unsent`."""
    default = config or smtp_config(read_mail_settings(session))
    lang = admin_language(session)
    query = select(MailNotice).where(_due(now)).order_by(MailNotice.id)
    if keys is not None:
        query = query.where(MailNotice.key.in_(keys))
    claimed: list[ClaimedNotice] = []
    unsent: dict[str, str] = {}
    for row in list(session.scalars(query)):
        route = _ROUTES.get(row.kind)
        target = config or (route(session) if route is not None else default)
        done = session.execute(
            update(MailNotice)
            .where(MailNotice.id == row.id, _due(now))
            .values(
                status=SENDING if target is not None else UNSENT,
                lease_until=now + LEASE if target is not None else None,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) != 1:
            continue  # another sender took it
        if target is None:
            unsent[row.key] = UNSENT
            continue
        claimed.append(
            ClaimedNotice(
                id=row.id,
                key=row.key,
                kind=row.kind,
                subject=row.subject_en if lang == "en" else row.subject_ja,
                body=row.body_en if lang == "en" else row.body_ja,
                created_at=row.created_at,
                attempts=row.attempts,
                config=target,
            )
        )
    return claimed, unsent


async def deliver_pending(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    config: SmtpConfig | None = None,
    keys: list[str] | None = None,
) -> dict[str, str]:
    """Send every notice that is due (or only `keys`); returns key -> "ok" /
    "failed: …" (a retry is planned unless it was the last attempt) / "unsent". `config`
    overrides the stored SMTP settings (the outbreak monitor's own server). Never raises
    for SMTP or network trouble."""
    with sessions() as session:
        claimed, outcome = claim_due(session, now=clock.now(), config=config, keys=keys)
        session.commit()
    results: dict[int, str | None] = {}
    for notice in claimed:
        mail = build_mail(notice.config, subject=notice.subject, body=notice.body, at=clock.now())
        try:
            await asyncio.to_thread(send_mail, notice.config, mail)
            results[notice.id] = None
            outcome[notice.key] = "ok"
        except (OSError, smtplib.SMTPException) as exc:
            cause = describe_failure(exc)
            results[notice.id] = cause
            outcome[notice.key] = f"failed: {cause}"
            log.warning("mail notice %s not sent: %s", notice.key, cause)
    if claimed:
        _record_results(sessions, clock, claimed, results)
    return outcome


def _record_results(
    sessions: sessionmaker[Session],
    clock: Clock,
    claimed: list[ClaimedNotice],
    results: dict[int, str | None],
) -> None:
    now = clock.now()
    with sessions() as session:
        for notice in claimed:
            row = session.get(MailNotice, notice.id)
            if row is None or row.status != SENDING:
                continue
            cause = results.get(notice.id)
            row.attempts = notice.attempts + 1
            row.lease_until = None
            if cause is None:
                row.status, row.sent_at, row.error, row.next_attempt_at = SENT, now, None, None
                continue
            wait = retry_after(row.attempts)
            row.error = cause
            row.status = PENDING if wait is not None else FAILED
            row.next_attempt_at = now + wait if wait is not None else None
            mail_failed_event(
                session,
                now=now,
                config=notice.config,
                cause=cause,
                what=notice.kind,
                retry_at=row.next_attempt_at,
                attempts=row.attempts,
            )
        session.commit()


RETRY_NOW_WINDOW = timedelta(days=14)
"""`retry_now` leaves older notices alone: old news does not flood the inbox."""


def retry_now(session: Session, *, now: datetime) -> int:
    """Make every notice of the last `RETRY_NOW_WINDOW` waiting for a retry, or given up,
    due at once (the settings were just fixed); in the caller's transaction. Returns how
    many."""
    done = session.execute(
        update(MailNotice)
        .where(
            or_(
                and_(MailNotice.status == PENDING, MailNotice.attempts > 0),
                MailNotice.status == FAILED,
            ),
            MailNotice.created_at >= now - RETRY_NOW_WINDOW,
        )
        .values(status=PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def mail_failed_event(
    session: Session,
    *,
    now: datetime,
    config: SmtpConfig,
    cause: str,
    what: str,
    retry_at: datetime | None = None,
    attempts: int | None = None,
) -> None:
    """The system event of a mail the SMTP server did not take (nothing else changes);
    `retry_at`: when it is tried again; without it, a notice's `attempts` say it was the
    last one (the test mail has neither)."""
    server = f"{config.host}:{config.port}"
    then = {"ja": "", "en": ""}
    if retry_at is not None:
        at = retry_at.strftime("%Y-%m-%d %H:%M:%S")
        then = {"ja": f"{at}（UTC）に再送します。", "en": f"It is tried again at {at} (UTC). "}
    elif attempts is not None:
        then = {
            "ja": f"{attempts}回失敗したため、このメールの再送を終了しました。",
            "en": f"After {attempts} failed attempts it is not tried again. ",
        }
    hint = {"ja": "", "en": ""}
    if cause.startswith(CERTIFICATE_UNTRUSTED):
        hint = {
            "ja": (
                "SMTPサーバの証明書を検証できませんでした。信頼された認証局が発行したものではないか、"
                "サーバ名と一致しません。"
            ),
            "en": (
                "The SMTP server's certificate could not be verified (not issued by a trusted "
                "CA, or not for this server name). "
            ),
        }
    add_event(
        session,
        at=now,
        level=Level.ERROR,
        kind="mail.send_failed",
        message={
            "ja": (
                f"管理者へのメール ({what})を送信できませんでした (SMTP サーバ {server}: "
                f"{cause})。{hint['ja']}{then['ja']}"
                "[運用管理] → [メール通知]の設定と SMTP サーバを確認してください。"
                "ライセンスやその他の動作には影響ありません。"
            ),
            "en": (
                f"The mail to the administrator ({what}) could not be sent (SMTP server "
                f"{server}: {cause}). {hint['en']}{then['en']}Check Administration → Mail "
                "notifications and the SMTP server. The license and everything else are "
                "unaffected."
            ),
        },
        details={
            "kind": what,
            "smtp": server,
            "cause": cause,
            "retry_at": retry_at.isoformat() if retry_at is not None else None,
            "attempts": attempts,
        },
    )


@dataclass(frozen=True)
class NoticeView:
    """A notice as the mail settings page lists it."""

    kind: str
    subject_ja: str
    subject_en: str
    created_at: datetime
    state: str
    """sent, waiting (due now), retrying (a failed attempt, another planned), sending,
    failed (given up) or unsent (mail was not set up)."""
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str | None


def notice_state(row: MailNotice) -> str:
    if row.status == PENDING:
        return "retrying" if row.attempts else "waiting"
    return row.status


def recent_notices(session: Session, *, limit: int = 20) -> list[NoticeView]:
    """The latest notices, newest first."""
    rows = session.scalars(select(MailNotice).order_by(MailNotice.id.desc()).limit(limit))
    return [
        NoticeView(
            kind=row.kind,
            subject_ja=row.subject_ja,
            subject_en=row.subject_en,
            created_at=row.created_at,
            state=notice_state(row),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == PENDING else None,
            sent_at=row.sent_at,
            error=row.error,
        )
        for row in rows
    ]
