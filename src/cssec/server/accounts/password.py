"""Changing a Web manager password: from the Web manager (the current password first) or
from the server's own console (`cssec server admin password`, for whoever holds the data
directory, e.g. after the password is lost). The new password is argon2-hashed, every other
session of the account ends, and the system event log records the change (never the
password)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.server.accounts.errors import UnknownUser, WeakPassword, WrongCurrentPassword
from cssec.server.logs.events import Level, add_event
from cssec.server.models import User, WebSession
from cssec.web.security import hash_password, verify_password

MIN_PASSWORD_LENGTH = 8
"""As at install (`cssec.server.licensing.install_request.MIN_PASSWORD_LENGTH`)."""
MAX_PASSWORD_LENGTH = 1024


def check_new_password(new: str, confirm: str) -> None:
    if len(new) < MIN_PASSWORD_LENGTH or len(new) > MAX_PASSWORD_LENGTH or new != confirm:
        raise WeakPassword(min_length=MIN_PASSWORD_LENGTH)


def _set(session: Session, user: User, new: str, *, keep_token: str | None, now: datetime,
         via: str) -> int:  # fmt: skip
    user.password_hash = hash_password(new)
    ended = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_token is not None:
        ended = ended.where(WebSession.id != hashlib.sha256(keep_token.encode()).hexdigest())
    count = int(getattr(session.execute(ended), "rowcount", 0) or 0)
    where = {"web": ("Webマネージャ", "the Web manager"), "cli": ("コマンド", "the command line")}
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="auth.password_changed",
        message={
            "ja": f"ユーザー「{user.username}」のパスワードを{where[via][0]}で変更しました"
            f"（ほかのセッション{count}件を終了）。",
            "en": f"Password of user {user.username} changed from {where[via][1]} "
            f"({count} other sessions ended).",
        },
        details={"username": user.username, "via": via, "sessions_ended": count},
    )
    session.commit()
    return count


def change_password(
    session: Session,
    user_id: int,
    *,
    current: str,
    new: str,
    confirm: str,
    keep_token: str | None,
    now: datetime,
) -> int:
    """The signed-in user's new password, after the current one is checked; the sessions
    of other browsers end (`keep_token`'s stays). Returns how many ended."""
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise WrongCurrentPassword()
    check_new_password(new, confirm)
    return _set(session, user, new, keep_token=keep_token, now=now, via="web")


def reset_password(session: Session, username: str, new: str, *, now: datetime) -> int:
    """`cssec server admin password`: no current password (the caller holds the data
    directory); every session of the account ends."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise UnknownUser(username=username)
    check_new_password(new, new)
    return _set(session, user, new, keep_token=None, now=now, via="cli")
