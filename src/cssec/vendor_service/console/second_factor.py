"""The console's second factor: the code asked after the password, and enrolment.

After a correct password, a staff member with a second factor is not signed in: the
session holds only a pending sign-in (who, the password fingerprint, when, where to go),
good for `PENDING_SECONDS`, and `/console/login/second-factor` asks for a TOTP or recovery
code (`services.two_factor`). With `console_require_totp` (the default), one not enrolled
yet is sent to enrolment instead, can reach nothing else, and is signed in once it is
confirmed. Enrolling ends every other session of the user (a password-only one opened
before included); the enrolling browser goes on in a fresh session. Code attempts are
rate-limited per address and per account; every form checks the CSRF token.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from cssec.core.errors import RateLimited
from cssec.vendor_service.console.web import (
    PREFIX,
    SESSION_FINGERPRINT,
    SESSION_SEEN,
    SESSION_USER,
    StaffUser,
    current_user,
    gettext,
    next_page,
    render,
    session_fingerprint,
    vendor_of,
)
from cssec.vendor_service.models import RecoveryCode, User
from cssec.vendor_service.services import two_factor
from cssec.vendor_service.webkit import start_session as kit_start_session
from cssec.web.http import client_ip
from cssec.web.i18n import current_language
from cssec.web.lockout import LockoutRule, LoginThrottle
from cssec.web.pages import check_csrf, flash, redirect
from cssec.web.security import constant_time_equal

log = logging.getLogger("cssec.vendor_service.console.auth")
router = APIRouter(prefix=PREFIX, include_in_schema=False)

PENDING = "second_factor"
SETUP_KEY = "totp_setup"
PENDING_SECONDS = 5 * 60
CODE_LIMIT_PER_IP = "10/minute"
CODE_LIMIT_PER_USER = "5/minute"
CODE_BACKOFF = LockoutRule(
    max_failures=5,
    lockout=timedelta(minutes=1),
    max_lockout=timedelta(hours=1),
    ceiling=1_000_000,
)
"""Wrong codes of one account from any address: after 5 in a row the code step waits a
minute, doubling with each further wrong code up to an hour; a right code clears it. The
per-minute limits above alone let someone who has the password try 7,200 codes a day
(each with 3 right answers in the drift window: a 2 % chance a day); this leaves a few
dozen. Only someone who has the password can make the owner wait, and at most an hour."""
_BACKOFF_SOURCE = "account"
"""The back-off counts per account, not per (account, address): changing address does
not buy more guesses."""
LOGIN_STEP = f"{PREFIX}/login/second-factor"
SETUP = f"{PREFIX}/account/two-factor"

Form128 = Annotated[str, Form(max_length=128)]


def start_session(request: Request, user: StaffUser, fingerprint: str) -> None:
    """Sign `user` in: a fresh session (nothing from before the login, CSRF token, flashes
    or a pending sign-in, survives it)."""
    now = vendor_of(request).clock.now().timestamp()
    values = {SESSION_USER: user.id, SESSION_FINGERPRINT: fingerprint, SESSION_SEEN: now}
    kit_start_session(request, values)
    log.info("console login: %s", user.name)


def second_factor_next(
    request: Request, user: StaffUser, fingerprint: str, target: str, *, enrol: bool
) -> Response:
    """After the password: remember the pending sign-in and ask for the code (or enrolment)."""
    pending = {
        "uid": user.id,
        "name": user.name,
        "role": user.role,
        "pwf": fingerprint,
        "at": vendor_of(request).clock.now().timestamp(),
        "next": target,
        "enrol": enrol,
    }
    kit_start_session(request, {PENDING: pending})
    return redirect(SETUP if enrol else LOGIN_STEP)


def _pending(request: Request) -> dict[str, Any] | None:
    """The pending sign-in, while it is fresh and the password has not changed since."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("uid"), int):
        return None
    vendor = vendor_of(request)
    age = vendor.clock.now().timestamp() - float(pending.get("at", 0))
    if not 0 <= age <= PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    with vendor.session() as session:
        user = session.get(User, pending["uid"])
        if user is None or not constant_time_equal(
            session_fingerprint(user), str(pending.get("pwf", ""))
        ):
            request.session.pop(PENDING, None)
            return None
    return pending


def _staff(pending: dict[str, Any]) -> StaffUser:
    return StaffUser(id=pending["uid"], name=str(pending["name"]), role=str(pending["role"]))


def _limit(request: Request, uid: int, purpose: str) -> None:
    limiter = vendor_of(request).limiter
    limiter.hit(CODE_LIMIT_PER_IP, f"console-{purpose}", client_ip(request))
    limiter.hit(CODE_LIMIT_PER_USER, f"console-{purpose}-user", str(uid))


def _expired(request: Request) -> Response:
    flash(request, "info", gettext(request, "The sign-in expired. Log in again."))
    return redirect(f"{PREFIX}/login")


@router.get("/login/second-factor")
def second_factor_page(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return _expired(request)
    if pending.get("enrol"):
        return redirect(SETUP)
    return render(request, "second_factor.html", user=None, error=None)


@router.post("/login/second-factor")
def second_factor_submit(
    request: Request, code: Form128 = "", csrf_token: Form128 = ""
) -> Response:
    check_csrf(request, csrf_token)
    pending = _pending(request)
    if pending is None or pending.get("enrol"):
        return _expired(request)
    _limit(request, pending["uid"], "2fa")
    vendor = vendor_of(request)
    now = vendor.clock.now()
    throttle: LoginThrottle = request.app.state.console_second_factors
    account = f"2fa:{pending['uid']}"
    waiting = throttle.refused_for(account, _BACKOFF_SOURCE, now=now)
    if waiting is not None:
        raise RateLimited(retry_after=waiting)
    with vendor.session() as session:
        proved = two_factor.verify(session, pending["uid"], code, now=now)
    if proved is None:
        attempt = throttle.fail(account, _BACKOFF_SOURCE, now=now, rule=CODE_BACKOFF)
        if attempt.locked:
            log.warning(
                "console second-factor codes of %s refused for %s s after wrong codes",
                pending.get("name"), attempt.retry_after,
            )  # fmt: skip
        message = two_factor.InvalidSecondFactor().message(_lang(request))
        return render(request, "second_factor.html", user=None, error=message, status_code=401)
    throttle.succeed(account, _BACKOFF_SOURCE)
    target = next_page(str(pending.get("next", "")))
    start_session(request, _staff(pending), str(pending["pwf"]))
    if proved.method == "recovery":
        flash(
            request,
            "warning",
            gettext(
                request,
                "You signed in with a recovery code; %(n)s are left. If your authenticator "
                "is lost, ask an administrator to reset your second factor.",
                n=proved.recovery_left,
            ),
        )
    return redirect(target)


def _lang(request: Request) -> str:
    return current_language.get()


def _who(request: Request) -> tuple[StaffUser, dict[str, Any] | None] | None:
    """The signed-in user, or the pending sign-in that must enrol first."""
    user = current_user(request)
    if user is not None:
        return user, None
    pending = _pending(request)
    if pending is not None and pending.get("enrol"):
        return _staff(pending), pending
    return None


def _setup_secret(request: Request, user: StaffUser, *, create: bool) -> str | None:
    """The TOTP secret being enrolled. The session cookie (signed, but readable by whoever
    holds it) carries only a random nonce; the secret is an HMAC of it, the user's id and
    the console's session secret, so the cookie alone does not give the secret away."""
    nonce = request.session.get(SETUP_KEY)
    if not isinstance(nonce, str) or len(nonce) != _SETUP_NONCE_CHARS:
        if not create:
            return None
        nonce = request.session[SETUP_KEY] = secrets.token_hex(_SETUP_NONCE_CHARS // 2)
    key = vendor_of(request).session_secret.encode("utf-8")
    mac = hmac.new(key, f"cssec-console-totp-setup\0{user.id}\0{nonce}".encode(), "sha256")
    return base64.b32encode(mac.digest()[:20]).decode("ascii")  # 160 bits, 32 characters


_SETUP_NONCE_CHARS = 32


def _setup_page(
    request: Request, user: StaffUser, error: str | None, status: int = 200
) -> Response:
    secret = _setup_secret(request, user, create=True)
    assert secret is not None
    uri = two_factor.provisioning_uri(secret, user.name)
    qr = segno.make(uri, error="m").svg_inline(scale=4, title="QR")
    return render(
        request,
        "two_factor_setup.html",
        user=user if current_user(request) else None,
        active="two-factor",
        secret=secret,
        uri=uri,
        qr=qr,
        error=error,
        status_code=status,
    )


@router.get("/account/two-factor")
def two_factor_page(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _expired(request)
    user, _pending_signin = who
    vendor = vendor_of(request)
    with vendor.session() as session:
        row = session.get(User, user.id)
        assert row is not None
        if two_factor.is_enrolled(row):
            left = len(
                session.scalars(
                    select(RecoveryCode.id)
                    .where(RecoveryCode.user_id == user.id)
                    .where(RecoveryCode.used_at.is_(None))
                ).all()
            )
            return render(
                request,
                "two_factor_status.html",
                user=user,
                active="two-factor",
                enrolled_at=row.totp_enabled_at,
                recovery_left=left,
            )
    return _setup_page(request, user, None)


@router.post("/account/two-factor")
def two_factor_enrol(request: Request, code: Form128 = "", csrf_token: Form128 = "") -> Response:
    check_csrf(request, csrf_token)
    who = _who(request)
    if who is None:
        return _expired(request)
    user, pending = who
    _limit(request, user.id, "2fa-enrol")
    secret = _setup_secret(request, user, create=False)
    if secret is None:
        return redirect(SETUP)
    vendor = vendor_of(request)
    try:
        with vendor.session() as session:
            codes = two_factor.enroll(
                session, user.id, secret=secret, code=code, now=vendor.clock.now(),
                actor=user.actor, replace=pending is None,
            )  # fmt: skip
    except two_factor.AlreadyEnrolled:  # enrolled meanwhile: the code step, not this one
        request.session.clear()
        return _expired(request)
    except two_factor.InvalidSecondFactor as exc:
        return _setup_page(request, user, exc.message(_lang(request)), status=400)
    request.session.pop(SETUP_KEY, None)
    target = f"{PREFIX}/"
    if pending is not None:
        target = next_page(str(pending.get("next", "")))
    # Enrolling ended every session of the user (its epoch moved); this browser, which
    # proved the new factor, goes on in a fresh one.
    with vendor.session() as session:
        row = session.get(User, user.id)
        assert row is not None
        fingerprint = session_fingerprint(row)
    start_session(request, user, fingerprint)
    return render(
        request,
        "two_factor_codes.html",
        user=user,
        active="two-factor",
        codes=codes,
        target=target,
    )
