"""The support desk's second factor: TOTP (RFC 6238, pyotp) and single-use recovery codes.

The console can issue activation codes, so a password alone should not be enough. A staff
member enrols by scanning a secret (shown once) and confirming it with a code; from then
on the console asks for a code after the password. A code from the previous or the next
30-second window is accepted (the RFC's recommended drift of one step), and a code whose
step is not later than the last one accepted is refused: a code seen over a shoulder or in
a log cannot be used again. Ten recovery codes, shown once at enrolment and stored as
argon2 hashes, each sign in once when the phone is lost. An administrator resets a lost
second factor with `cssec vendor user reset-2fa NAME`, which also ends the user's sessions.

Enrolling and removing a factor both bump `User.session_epoch`: every console session of
the user opened before (a password-only one, or one a thief holds) fails its fingerprint
check from its next request; the browser that enrolled is signed in again by the caller.
`cssec vendor user enrol-2fa NAME` (`enroll_issued`) enrols from the shell, for a first
administrator or the demo, and prints the secret once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.vendor_service.models import RecoveryCode, User
from cssec.vendor_service.services._context import transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.web.security import constant_time_equal

ISSUER = "C/S Sec. support desk"
STEP_SECONDS = 30
DRIFT_STEPS = 1
DIGITS = 6
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
_RECOVERY_HALF = 5
RECOVERY_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""argon2id at OWASP's minimum (19 MiB, 2 passes), lighter than the passwords': a recovery
code is 10 random characters of 31 (about 49 bits), not a chosen password, and signing in
may check all ten."""


class InvalidSecondFactor(CssecError):
    code = "invalid_second_factor"
    status = 401
    message_ja = (
        "確認コードが正しくないか、すでに使用されています。認証アプリに表示されている最新の"
        "6桁のコード、または未使用のリカバリーコードを入力してください。"
    )
    message_en = (
        "The code is wrong or was already used. Enter the current 6-digit code from your "
        "authenticator app, or an unused recovery code."
    )


class AlreadyEnrolled(CssecError):
    code = "second_factor_already_enrolled"
    status = 409
    message_ja = (
        "この確認コードの登録は開始後に別の画面で完了しています。もう一度ログインし、"
        "認証アプリのコードを入力してください。"
    )
    message_en = (
        "The second factor was enrolled elsewhere after this enrolment began. Log in again "
        "and enter the code from your authenticator app."
    )


class UnknownUser(CssecError):
    code = "unknown_user"
    status = 404
    message_ja = "ユーザー「{name}」は登録されていません。ユーザー名を確認してください。"
    message_en = "There is no user {name}. Check the user name."


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, name: str) -> str:
    """The otpauth:// URI an authenticator app scans (the QR code's content)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, *, now: datetime, after: int | None) -> int | None:
    """The time step within the drift window whose code is `code` and that is later than
    `after` (the last step accepted), else None. Every candidate is compared, in constant
    time, whatever matched before."""
    text = "".join(code.split())
    if len(text) != DIGITS or not text.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        expected = totp.at(step * STEP_SECONDS)
        if constant_time_equal(expected, text) and (after is None or step > after):
            found = step if found is None else found
    return found


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(2 * _RECOVERY_HALF))
    return f"{chars[:_RECOVERY_HALF]}-{chars[_RECOVERY_HALF:]}"


def _normal_recovery(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _recovery_matches(code_hash: str, text: str) -> bool:
    try:
        return RECOVERY_HASHER.verify(code_hash, text)
    except (VerificationError, InvalidHashError):
        return False


def is_enrolled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_enabled_at is not None


def enroll(
    session: Session,
    user_id: int,
    *,
    secret: str,
    code: str,
    now: datetime,
    actor: str,
    replace: bool = True,
) -> list[str]:
    """Turn the second factor on with `secret` once `code` proves the app holds it; the ten
    recovery codes, to be shown once (only their hashes are kept). InvalidSecondFactor for
    a wrong code. Replaces an earlier enrolment's secret and recovery codes, unless
    `replace` is False (AlreadyEnrolled then): the enrolment a first sign-in asks for,
    proved by the password alone, must not replace a factor enrolled meanwhile."""
    step = matching_step(secret, code, now=now, after=None)
    if step is None:
        raise InvalidSecondFactor()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    hashes = [RECOVERY_HASHER.hash(_normal_recovery(c)) for c in codes]
    with transaction(session):
        user = session.get(User, user_id)
        if user is None:
            raise UnknownUser(name=str(user_id))
        again = is_enrolled(user)
        if again and not replace:
            raise AlreadyEnrolled()
        user.totp_secret = secret
        user.totp_enabled_at = now
        user.totp_last_step = step
        user.session_epoch = user.session_epoch + 1  # every session opened before ends
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        session.add_all(RecoveryCode(user_id=user_id, code_hash=h, created_at=now) for h in hashes)
        record_audit(
            session,
            actor=actor,
            action="user.2fa_enrolled",
            target=f"user:{user.name}",
            before={"enrolled": again},
            after={"enrolled": True, "recovery_codes": RECOVERY_CODE_COUNT},
        )
    return codes


class SecondFactorPresent(CssecError):
    code = "second_factor_present"
    status = 409
    message_ja = (
        "ユーザー「{name}」はすでに確認コード (二要素認証)を登録しています。登録し直すには、"
        "「cssec vendor user reset-2fa {name}」で解除してから、もう一度実行してください。"
    )
    message_en = (
        "{name} already has a second factor. To enrol a new one, remove it with "
        "`cssec vendor user reset-2fa {name}`, then run the command again."
    )


@dataclass(frozen=True)
class IssuedSecondFactor:
    """What `enroll_issued` hands the operator once: the secret, its otpauth:// URI (the
    QR code's content) and the recovery codes."""

    secret: str
    uri: str
    recovery_codes: list[str]


def enroll_issued(session: Session, name: str, *, now: datetime, actor: str) -> IssuedSecondFactor:
    """Enrol `name` with a fresh secret, from the shell (the operator proves nothing: they
    hold the database already). SecondFactorPresent when the user has one: the shell never
    silently replaces a factor. UnknownUser when there is no such user."""
    with transaction(session):
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UnknownUser(name=name)
        if is_enrolled(user):
            raise SecondFactorPresent(name=name)
        user_id = user.id
    secret = new_secret()
    code = pyotp.TOTP(secret).at(now)
    try:
        codes = enroll(
            session, user_id, secret=secret, code=code, now=now, actor=actor, replace=False
        )
    except AlreadyEnrolled:
        raise SecondFactorPresent(name=name) from None
    return IssuedSecondFactor(
        secret=secret, uri=provisioning_uri(secret, name), recovery_codes=codes
    )


def must_enrol(user: User, *, require_totp: bool) -> bool:
    """Whether `user` must have a second factor before using the console: everyone, while
    the console requires TOTP (the default; `console_require_totp`)."""
    return require_totp and not is_enrolled(user)


@dataclass(frozen=True)
class SecondFactor:
    """How a sign-in's second factor was proved: "totp" or "recovery" (with the recovery
    codes left)."""

    method: str
    recovery_left: int | None = None


def verify(session: Session, user_id: int, code: str, *, now: datetime) -> SecondFactor | None:
    """Check a code after the password: a TOTP code (its step then remembered, so it cannot
    be used again) or an unused recovery code (then marked used and audited). None when
    neither matches. Owns its transaction."""
    with transaction(session):
        user = session.get(User, user_id)
        if user is None or user.totp_secret is None:
            return None
        step = matching_step(user.totp_secret, code, now=now, after=user.totp_last_step)
        if step is not None:
            # Conditional, so two requests racing with one code cannot both succeed.
            taken = session.execute(
                update(User)
                .where(User.id == user_id)
                .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
                .values(totp_last_step=step)
            )
            return SecondFactor("totp") if taken.rowcount == 1 else None  # type: ignore[attr-defined]
        wanted = _normal_recovery(code)
        if len(wanted) != 2 * _RECOVERY_HALF:
            return None
        unused = list(
            session.scalars(
                select(RecoveryCode)
                .where(RecoveryCode.user_id == user_id)
                .where(RecoveryCode.used_at.is_(None))
                .order_by(RecoveryCode.id)
            )
        )
        for row in unused:
            if _recovery_matches(row.code_hash, wanted):
                # Conditional, as the TOTP step above: on PostgreSQL two requests racing
                # with one recovery code both read it unused (no row lock was taken).
                taken = session.execute(
                    update(RecoveryCode)
                    .where(RecoveryCode.id == row.id)
                    .where(RecoveryCode.used_at.is_(None))
                    .values(used_at=now)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    return None
                left = len(unused) - 1
                record_audit(
                    session,
                    actor=f"console:{user.name}",
                    action="user.recovery_code_used",
                    target=f"user:{user.name}",
                    before=None,
                    after={"recovery_codes_left": left},
                )
                return SecondFactor("recovery", recovery_left=left)
    return None


def reset(session: Session, name: str, *, actor: str) -> None:
    """Turn a user's second factor off (a lost phone): secret and recovery codes removed,
    every session of the user ended. The user enrols again at the next sign-in when the
    policy requires it. UnknownUser when there is no such user."""
    with transaction(session):
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UnknownUser(name=name)
        was = is_enrolled(user)
        user.totp_secret = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.session_epoch = user.session_epoch + 1
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        record_audit(
            session,
            actor=actor,
            action="user.2fa_reset",
            target=f"user:{name}",
            before={"enrolled": was},
            after={"enrolled": False},
        )


__all__ = [
    "AlreadyEnrolled",
    "InvalidSecondFactor",
    "IssuedSecondFactor",
    "SecondFactor",
    "SecondFactorPresent",
    "UnknownUser",
    "enroll",
    "enroll_issued",
    "is_enrolled",
    "matching_step",
    "must_enrol",
    "new_secret",
    "provisioning_uri",
    "reset",
    "verify",
]
