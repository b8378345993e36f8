"""Signing staff in and out, and the language switch.

Failed logins are slowed twice: per client IP by the vendor's rate limiter, and per
account by a lockout (MAX_FAILURES wrong passwords in a row lock it for LOCKOUT; the
User row keeps the count). Unknown user, wrong password and locked account all get the
same message and take the same time (the password is verified, against a dummy hash if
need be, in every case), so the form tells an outsider nothing about which names exist.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cssec.core.errors import RateLimited
from cssec.vendor_service.console.web import (
    PREFIX,
    SESSION_FINGERPRINT,
    SESSION_SEEN,
    SESSION_USER,
    Refusal,
    StaffUser,
    check_csrf,
    current_user,
    flash,
    gettext,
    redirect,
    render,
    safe_next,
    session_fingerprint,
    vendor_of,
)
from cssec.vendor_service.models import User
from cssec.vendor_service.services import record_audit, transaction
from cssec.web.http import client_ip
from cssec.web.i18n import LANG_COOKIE, LANGUAGES, current_language
from cssec.web.security import CSRF_SESSION_KEY, new_token, verify_password

log = logging.getLogger(__name__)
router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
LOGIN_LIMIT_PER_IP = "10/minute"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

Form128 = Annotated[str, Form(max_length=128)]


def authenticate(session: Session, name: str, password: str, *, now: datetime) -> StaffUser | None:
    """The user when the name and password match and the account is not locked, else None.

    Counts the failure against a known account and locks it after MAX_FAILURES (audited as
    user.locked). Owns its transaction.
    """
    with transaction(session):
        user = (
            session.scalar(select(User).where(User.name == name).with_for_update())
            if name
            else None
        )
        password_ok = verify_password(user.password_hash if user else None, password)
        if user is None:
            return None
        if user.locked_until is not None and user.locked_until > now:
            return None
        if password_ok:
            user.failed_logins = 0
            user.locked_until = None
            return StaffUser(id=user.id, name=user.name, role=user.role)
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            record_audit(
                session,
                actor="console",
                action="user.locked",
                target=f"user:{user.name}",
                before=None,
                after={"locked_until": user.locked_until.isoformat(), "failures": MAX_FAILURES},
            )
            log.warning("console account %s locked after %d failures", user.name, MAX_FAILURES)
    return None


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_user(request) is not None:
        return redirect(safe_next(next))
    notice = None
    if request.session.pop("signed_out", None) == "idle":
        notice = gettext(request, "Your session ended after a period of inactivity. Log in again.")
    return render(request, "login.html", user=None, next=safe_next(next), notice=notice)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Form128 = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    vendor = vendor_of(request)
    target = safe_next(next)
    check_csrf(request, csrf_token)
    try:
        vendor.limiter.hit(LOGIN_LIMIT_PER_IP, "console-login", client_ip(request))
    except RateLimited as exc:
        raise Refusal(
            429,
            gettext(request, "Too many attempts"),
            exc.message(current_language.get()),
            retry_after=exc.fields.get("retry_after"),
        ) from exc
    with vendor.session() as session:
        user = authenticate(session, username.strip(), password, now=vendor.clock.now())
    if user is None:
        message = gettext(
            request,
            "The user name or password is wrong, or the account is locked after "
            "%(n)s failed attempts. Check them and try again; a locked account opens "
            "again after %(minutes)s minutes (or ask an administrator).",
            n=MAX_FAILURES,
            minutes=int(LOCKOUT.total_seconds() // 60),
        )
        return render(
            request,
            "login.html",
            user=None,
            next=target,
            notice=None,
            error=message,
            username=username,
            status_code=401,
        )
    with vendor.session() as session:
        row = session.get(User, user.id)
        assert row is not None
        fingerprint = session_fingerprint(row)
    # A fresh session: nothing from before the login (CSRF token, flashes) survives it.
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_FINGERPRINT] = fingerprint
    request.session[SESSION_SEEN] = vendor.clock.now().timestamp()
    request.session[CSRF_SESSION_KEY] = new_token()
    log.info("console login: %s", user.name)
    return redirect(target)


def end_sessions(session: Session, user_id: int) -> None:
    """Bump the user's session epoch: every console session signed in before, including
    any copy of its cookie, fails the fingerprint check from the next request on."""
    with transaction(session):
        session.execute(
            update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
        )


@router.post("/logout")
def logout(request: Request, csrf_token: Form128 = "") -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    if user is not None:
        # Server-side: clearing the browser's cookie alone would leave a copy of it valid.
        with vendor_of(request).session() as session:
            end_sessions(session, user.id)
        log.info("console logout: %s", user.name)
    request.session.clear()
    flash(request, "info", gettext(request, "You have logged out."))
    return redirect(f"{PREFIX}/login")


@router.post("/language")
def switch_language(
    request: Request,
    _user: Annotated[StaffUser | None, Depends(current_user)],
    lang: Annotated[str, Form(max_length=8)] = "ja",
    csrf_token: Form128 = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    response = redirect(safe_next(next))
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=vendor_of(request).settings.console_https_only,
        )
    return response
