"""Web manager accounts: argon2 passwords, lockout after repeated failures, server-side
sessions (the cookie carries a random token; the table keeps only its hash, so a session
ends for good at logout and a token read from the database is useless)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.server.errors import AccountLocked, LoginFailed
from cssec.server.events import Level, add_event
from cssec.server.models import User, WebSession
from cssec.web.security import hash_password, needs_rehash, new_token, verify_password

SESSION_TOUCH_EVERY = timedelta(minutes=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> User:
    """The user, or LoginFailed / AccountLocked; counts failures and commits."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # same work as a real attempt
        retry = max(1, int((user.locked_until - now).total_seconds()))
        raise AccountLocked(retry_after=retry)
    if user is None or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
                add_event(
                    session,
                    at=now,
                    level=Level.WARNING,
                    kind="auth.account_locked",
                    message={
                        "ja": (
                            f"ログインの失敗が続いたため、アカウント {user.username} を"
                            "一時的にロックしました。"
                        ),
                        "en": f"Account {user.username} locked after repeated failed logins.",
                    },
                    details={"username": user.username, "until": user.locked_until.isoformat()},
                )
            session.commit()
            if user.locked_until is not None and user.locked_until > now:
                raise AccountLocked(retry_after=int(lockout.total_seconds()))
        raise LoginFailed()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.commit()
    return user


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
