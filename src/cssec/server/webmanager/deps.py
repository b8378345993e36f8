"""Who is asking: the Web manager session user, or a redirect to the login page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import Request

from cssec.server.accounts.auth import resolve_session
from cssec.server.models import User
from cssec.server.webmanager.templating import ctx_of

SESSION_USER_KEY = "sid"


class LoginRequired(Exception):
    """A page needs a signed-in user; the app answers with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url

    @property
    def login_url(self) -> str:
        return "/login?next=" + quote(self.next_url, safe="/")


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
