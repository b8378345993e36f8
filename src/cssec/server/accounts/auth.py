"""Web manager accounts: argon2 passwords, the login lockout, server-side sessions (the
cookie carries a random token; the table keeps only its hash, so a session ends for good
at logout and a token read from the database is useless).

The lockout is `cssec.web.lockout`: counted per (name, source address), so somebody
guessing `admin`'s password from one address never locks the administrator out from
another, with a per-name ceiling that only delays. A name without an account is counted
by the same rule, so neither the answers (401 login_failed, then 429 account_locked) nor
the work done tell an outsider which names exist. The counts are in the database
(`cssec.web.lockout_db`): a restart keeps them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.server.accounts.errors import AccountLocked, LoginFailed
from cssec.server.logs.events import Level, add_event
from cssec.server.models import User, WebSession
from cssec.web.lockout import LockoutRule, LoginThrottle, Outcome, attempt_login
from cssec.web.security import hash_password, needs_rehash, new_token

SESSION_TOUCH_EVERY = timedelta(minutes=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


UnknownNameLockout = LoginThrottle
"""The old name of the throttle `ServerContext.unknown_names` holds; it now counts every
name, with an account or without."""


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    source: str,
    throttle: LoginThrottle,
    rule: LockoutRule,
) -> User:
    """The user, or LoginFailed / AccountLocked (`retry_after`: when `source` may try again).

    A name without an account gets the answers an account would."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    password_hash = user.password_hash if user is not None else None
    # End the read (SQLite: BEGIN IMMEDIATE holds the write lock) before the throttle,
    # which counts in the database on its own connection.
    session.rollback()
    attempt = attempt_login(
        throttle,
        username,
        source,
        password_hash,
        password,
        now=now,
        rule=rule,
    )
    if attempt.outcome is Outcome.SIGNED_IN and user is not None:
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.commit()
        return user
    if attempt.locked and user is not None and attempt.retry_after is not None:
        until = now + timedelta(seconds=attempt.retry_after)
        add_event(
            session,
            at=now,
            level=Level.WARNING,
            kind="auth.account_locked",
            message={
                "ja": (
                    f"{source}からのログインの失敗が続いたため、{source}からアカウント "
                    f"{user.username}へのログインを一時的にロックしました"
                    "(ほかの接続元からのログインには影響しません)。"
                ),
                "en": (
                    f"Logins to account {user.username} from {source} locked for now after "
                    "repeated failures from there (logins from elsewhere are not affected)."
                ),
            },
            details={"username": user.username, "source": source, "until": until.isoformat()},
        )
        session.commit()
    if attempt.retry_after is not None:
        raise AccountLocked(retry_after=attempt.retry_after)
    raise LoginFailed()


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """A fresh session token (a new one at every login: no fixation); commits."""
    token = new_token(32)
    session.add(
        WebSession(id=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now)
    )
    session.commit()
    return token


def resolve_session(session: Session, token: str, *, now: datetime, idle: timedelta) -> User | None:
    """The session's user while it is fresh; an idle session is deleted."""
    row = session.get(WebSession, _token_hash(token))
    if row is None:
        return None
    if now - row.last_seen_at > idle or now < row.created_at - timedelta(days=1):
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at > SESSION_TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return session.get(User, row.user_id)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _token_hash(token)))
    session.commit()


def purge_sessions(session: Session, *, now: datetime, idle: timedelta) -> int:
    result = session.execute(delete(WebSession).where(WebSession.last_seen_at < now - idle))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def set_language(session: Session, user_id: int, language: str) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.language = language
        session.commit()
