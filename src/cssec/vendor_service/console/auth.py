"""Signing staff in and out, and the language switch.

Failed logins are slowed twice: per client IP by the vendor's rate limiter, and per
(account, source address) by `cssec.web.lockout` (MAX_FAILURES wrong passwords from one
address refuse that address for LOCKOUT, doubling after that; other addresses, the owner's
among them, are not locked out; see that module for why and for the per-account
ceiling). Unknown user, wrong password and refused address all get the same message and
take the same time (the password is verified, against a dummy hash if need be, in every
case), so the form tells an outsider nothing about which names exist.

A staff member who enrolled a second factor (or every one, with the setting
`console_require_totp`) is not signed in by the password alone: `second_factor` asks for
the code (or the enrolment) next.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cssec.vendor_service import webkit
from cssec.vendor_service.console.second_factor import second_factor_next, start_session
from cssec.vendor_service.console.web import (
    PREFIX,
    WEB,
    StaffUser,
    current_user,
    gettext,
    next_page,
    render,
    session_fingerprint,
    vendor_of,
)
from cssec.vendor_service.models import User
from cssec.vendor_service.services import record_audit, transaction
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.two_factor import is_enrolled
from cssec.web.http import client_ip
from cssec.web.lockout import LockoutRule, LoginThrottle, Outcome, attempt_login
from cssec.web.pages import redirect

log = logging.getLogger(__name__)
router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
LOGIN_LIMIT_PER_IP = "10/minute"


def lockout_rule() -> LockoutRule:
    return LockoutRule(max_failures=MAX_FAILURES, lockout=LOCKOUT)


def authenticate(
    session: Session,
    name: str,
    password: str,
    *,
    now: datetime,
    source: str,
    throttle: LoginThrottle,
) -> StaffUser | None:
    """The user when the name and password match and `source` may try the name, else None.

    The failure that refuses a source for a real account is audited as user.locked. Owns
    its transaction.
    """
    with read_transaction(session):
        user = session.scalar(select(User).where(User.name == name)) if name else None
    # Outside any transaction: the throttle counts in the database on its own connection.
    attempt = attempt_login(
        throttle,
        name,
        source,
        user.password_hash if user else None,
        password,
        now=now,
        rule=lockout_rule(),
    )
    if user is None:
        return None
    if attempt.outcome is Outcome.SIGNED_IN:
        return StaffUser(id=user.id, name=user.name, role=user.role)
    with transaction(session):
        if attempt.locked and attempt.retry_after is not None:
            until = now + timedelta(seconds=attempt.retry_after)
            record_audit(
                session,
                actor="console",
                action="user.locked",
                target=f"user:{user.name}",
                before=None,
                after={"source": source, "locked_until": until.isoformat()},
            )
            log.warning("console logins of %s from %s refused until %s", user.name, source, until)
    return None


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_user(request) is not None:
        return redirect(next_page(next))
    notice = None
    if webkit.ended_because(request) == "idle":
        notice = gettext(request, "Your session ended after a period of inactivity. Log in again.")
    return render(request, "login.html", user=None, next=next_page(next), notice=notice)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: webkit.CsrfToken = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    vendor = vendor_of(request)
    target = next_page(next)
    webkit.check_csrf(request, csrf_token)
    source = client_ip(request)
    vendor.limiter.hit(LOGIN_LIMIT_PER_IP, "console-login", source)
    with vendor.session() as session:
        user = authenticate(
            session,
            username.strip(),
            password,
            now=vendor.clock.now(),
            source=source,
            throttle=request.app.state.console_logins,
        )
    if user is None:
        message = gettext(
            request,
            "The user name or password is wrong, or logins from this address are paused "
            "after %(n)s failed attempts. Check them and try again; the pause ends after "
            "%(minutes)s minutes (longer if the failures go on), and logins from elsewhere "
            "are not affected.",
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
        enrolled = is_enrolled(row)
    if enrolled or vendor.settings.console_require_totp:
        # The password alone signs nobody in: the second factor (or its enrolment) next.
        return second_factor_next(request, user, fingerprint, target, enrol=not enrolled)
    start_session(request, user, fingerprint)
    return redirect(target)


def end_sessions(session: Session, user_id: int) -> None:
    """Bump the user's session epoch: every console session signed in before, including
    any copy of its cookie, fails the fingerprint check from the next request on."""
    with transaction(session):
        session.execute(
            update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
        )


@router.post("/logout")
def logout(request: Request, csrf_token: webkit.CsrfToken = "") -> Response:
    webkit.check_csrf(request, csrf_token)
    user = current_user(request)
    if user is not None:
        # Server-side: clearing the browser's cookie alone would leave a copy of it valid.
        with vendor_of(request).session() as session:
            end_sessions(session, user.id)
        log.info("console logout: %s", user.name)
    return webkit.close_session(
        request, gettext(request, "You have logged out."), to=f"{PREFIX}/login"
    )


# Through current_user: an idle session ends here as on any page.
switch_language = webkit.add_language_route(router, WEB, dependencies=[Depends(current_user)])
