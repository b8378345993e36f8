"""Who is asking: the Web manager session user, or a redirect to the login page; and
signing in by password (the login form and the JSON API's HTTP Basic alike)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from cssec.server.accounts.auth import authenticate, resolve_session
from cssec.server.models import User
from cssec.server.webmanager.templating import ctx_of
from cssec.web.http import client_ip
from cssec.web.lockout import LockoutRule
from cssec.web.pages import LoginRequired

SESSION_USER_KEY = "sid"


def session_user(request: Request) -> User | None:
    token = request.session.get(SESSION_USER_KEY)
    if not isinstance(token, str):
        return None
    ctx = ctx_of(request)
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    with ctx.sessionmaker() as session:
        user = resolve_session(session, token, now=ctx.clock.now(), idle=idle)
    if user is None:
        request.session.pop(SESSION_USER_KEY, None)
    return user


def require_user(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


async def sign_in(request: Request, username: str, password: str) -> User:
    """The user, or LoginFailed / AccountLocked: `cssec.web.lockout` per (name, address)."""
    ctx = ctx_of(request)
    rule = LockoutRule(
        max_failures=ctx.settings.login_max_failures,
        lockout=timedelta(minutes=ctx.settings.login_lockout_minutes),
    )

    def _authenticate() -> User:
        with ctx.sessionmaker() as session:
            return authenticate(
                session,
                username,
                password,
                now=ctx.clock.now(),
                source=client_ip(request),
                throttle=ctx.unknown_names,
                rule=rule,
            )

    return await run_in_threadpool(_authenticate)
