"""Support-desk staff accounts (the console signs them in; the CLI creates them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.names import USER_NAME, check_name
from cssec.vendor_service.errors import InvalidUser, UserExists
from cssec.vendor_service.models import User
from cssec.vendor_service.services._context import now_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.web.security import hash_password

ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 10


def add_user(
    session: Session, *, name: str, password: str, role: str = "staff", actor: str
) -> User:
    """A new staff account with an argon2 hash. Audited as user.created (no hash logged)."""
    name = check_name(name.strip(), USER_NAME)
    if not name or len(name) > 100 or not name.isprintable() or " " in name:
        raise InvalidUser(
            detail_ja="名前は空白を含まない 1〜100 文字で指定してください",
            detail_en="the name must be 1 to 100 characters without spaces",
        )
    if role not in ROLES:
        raise InvalidUser(
            detail_ja="ロールは staff か adminです", detail_en="the role is staff or admin"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(
            detail_ja=f"パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください",
            detail_en=f"the password must be at least {MIN_PASSWORD_LENGTH} characters",
        )
    with transaction(session):
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise UserExists(name=name)
        user = User(
            name=name,
            password_hash=hash_password(password),
            role=role,
            failed_logins=0,
            created_at=now_utc(session),
        )
        session.add(user)
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="user.created",
            target=f"user:{name}",
            before=None,
            after={"name": name, "role": role},
        )
    return user


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))
