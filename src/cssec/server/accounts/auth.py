"""Web manager accounts: argon2 passwords, lockout after repeated failures, server-side
sessions (the cookie carries a random token; the table keeps only its hash, so a session
ends for good at logout and a token read from the database is useless).

A name without an account is locked by the same rule as an account (counted in memory by
`UnknownNameLockout`, never in the database), so neither the answers (401 login_failed,
then 429 account_locked) nor the work done tell an outsider which names exist."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.server.accounts.errors import AccountLocked, LoginFailed
from cssec.server.logs.events import Level, add_event
from cssec.server.models import User, WebSession
from cssec.web.security import hash_password, needs_rehash, new_token, verify_password

SESSION_TOUCH_EVERY = timedelta(minutes=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UnknownNameLockout:
    """Failure counts and locks of names that have no account, in memory only (anyone can
    submit any name, so none of them gets a row). Same rule as `User.failed_logins` /
    `User.locked_until`: `max_failures` in a row lock the name for `lockout`. Keyed by the
    name exactly as the account lookup compares it (hashed, so a long name costs no more
    memory); bounded: past MAX_NAMES the name that failed least recently is forgotten."""

    MAX_NAMES = 10_000

    def __init__(self) -> None:
        self._names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._mutex = threading.Lock()

    @staticmethod
    def _key(name: str) -> str:
        return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()

    def locked_until(self, name: str, *, now: datetime) -> datetime | None:
        with self._mutex:
            _failures, until = self._names.get(self._key(name), (0, None))
        return until if until is not None and until > now else None

    def fail(self, name: str, *, now: datetime, max_failures: int, lockout: timedelta) -> bool:
        """Count one failure; True when it locks the name."""
        key = self._key(name)
        with self._mutex:
            failures, until = self._names.pop(key, (0, None))
            failures += 1
            locked = failures >= max_failures
            if locked:
                failures, until = 0, now + lockout
            self._names[key] = (failures, until)
            while len(self._names) > self.MAX_NAMES:
                self._names.popitem(last=False)
        return locked


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
    unknown_names: UnknownNameLockout,
) -> User:
    """The user, or LoginFailed / AccountLocked; counts failures and commits.

    A name without an account gets the answers an account would (`unknown_names`)."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        until = unknown_names.locked_until(username, now=now)
        verify_password(None, password)  # the same work as for an account, locked or not
        if until is not None:
            raise AccountLocked(retry_after=max(1, int((until - now).total_seconds())))
        if unknown_names.fail(username, now=now, max_failures=max_failures, lockout=lockout):
            raise AccountLocked(retry_after=int(lockout.total_seconds()))
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # same work as a real attempt
        retry = max(1, int((user.locked_until - now).total_seconds()))
        raise AccountLocked(retry_after=retry)
    if not verify_password(user.password_hash, password):
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
