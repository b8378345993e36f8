"""Login, logout and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.server.accounts.auth import end_session, set_language, start_session
from cssec.server.models import User
from cssec.server.webmanager.deps import SESSION_USER_KEY, session_user, sign_in
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.templating import ctx_of, next_page, render
from cssec.web.http import client_ip
from cssec.web.i18n import LANG_COOKIE, LANGUAGES
from cssec.web.pages import check_csrf, flash, redirect, set_language_cookie
from cssec.web.security import CSRF_SESSION_KEY, new_token

router = APIRouter(include_in_schema=False)

LOGIN_LIMIT_PER_IP = "20/minute"
"""Per address, on top of `cssec.web.lockout`. There is no per-name limit: one would let
anybody lock `admin` out (see that module)."""


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    if session_user(request) is not None:
        return redirect(next_page(next))
    return render(request, "login.html", user=None, next=next_page(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/dashboard",
) -> Response:
    ctx = ctx_of(request)
    target = next_page(next)
    try:
        check_csrf(request, csrf_token)
        ctx.limiter.hit(LOGIN_LIMIT_PER_IP, "login-ip", client_ip(request))
        user = await sign_in(request, username, password)
    except CssecError as exc:
        return refuse(request, exc, "/login?next=" + quote(target, safe="/"))
    old = request.session.get(SESSION_USER_KEY)
    with ctx.sessionmaker() as session:
        if isinstance(old, str):
            end_session(session, old)
        token = start_session(session, user, now=ctx.clock.now())
    # A fresh session: nothing from before the login (token, CSRF) survives it.
    request.session.clear()
    request.session[SESSION_USER_KEY] = token
    request.session[CSRF_SESSION_KEY] = new_token()
    response = redirect(target)
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        # This browser's choice stands: the account's default never overrides it.
        if user.language is None:
            with ctx.sessionmaker() as session:
                set_language(session, user.id, chosen)
    elif user.language in LANGUAGES:
        # A browser that never chose: the account's default, pinned to this browser so a
        # later click elsewhere does not move it. Without a default, each request's
        # Accept-Language decides, as before sign-in.
        set_language_cookie(response, user.language, secure=ctx.settings.cookie_secure)
    return response


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    ctx = ctx_of(request)
    if (refused := csrf_refusal(request, csrf_token, "/dashboard")) is not None:
        return refused
    token = request.session.get(SESSION_USER_KEY)
    if isinstance(token, str):
        with ctx.sessionmaker() as session:
            end_session(session, token)
    request.session.clear()
    flash(request, "info", {"ja": "ログアウトしました。", "en": "You have logged out."})
    return redirect("/login")


@router.post("/language")
async def switch_language(
    request: Request,
    user: Annotated[User | None, Depends(session_user)],
    lang: Annotated[str, Form(max_length=8)] = "ja",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/dashboard",
) -> Response:
    ctx = ctx_of(request)
    target = next_page(next)
    if (refused := csrf_refusal(request, csrf_token, target)) is not None:
        return refused
    if lang not in LANGUAGES:
        return redirect(target)
    if user is not None:
        # The account's default (its notice mails, a browser that has not chosen yet);
        # another browser's session keeps its own cookie.
        with ctx.sessionmaker() as session:
            set_language(session, user.id, lang)
    response = redirect(target)
    set_language_cookie(response, lang, secure=ctx.settings.cookie_secure)
    return response
