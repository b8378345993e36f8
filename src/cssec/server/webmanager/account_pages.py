"""運用管理 → パスワードの変更: the signed-in administrator's own password. The current
password first (a session left open on another desk is not enough), the new one twice;
then the other browsers' sessions end and this one stays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.server.accounts.password import MIN_PASSWORD_LENGTH, change_password
from cssec.server.models import User
from cssec.server.webmanager.deps import SESSION_USER_KEY, require_user
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.nav import NavItem, nav_group
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render

router = APIRouter(include_in_schema=False)
PASSWORD_URL = "/admin/password"  # noqa: S105 - a page address, not a password
CHANGE_LIMIT = "10/minute"
"""Per account: a guess at the current password from a stolen session stays slow."""

nav_group("admin").children.append(NavItem("Change password", PASSWORD_URL, key="password"))


@router.get(PASSWORD_URL)
async def password_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    return render(
        request,
        "account_password.html",
        user=user,
        active="password",
        min_length=MIN_PASSWORD_LENGTH,
    )


@router.post(PASSWORD_URL)
async def password_change(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    ctx = ctx_of(request)
    if (refused := csrf_refusal(request, csrf_token, PASSWORD_URL)) is not None:
        return refused
    token = request.session.get(SESSION_USER_KEY)
    try:
        ctx.limiter.hit(CHANGE_LIMIT, "password-change", str(user.id))
        with ctx.sessionmaker() as session:
            ended = change_password(
                session,
                user.id,
                current=current,
                new=new,
                confirm=confirm,
                keep_token=token if isinstance(token, str) else None,
                now=ctx.clock.now(),
            )
    except CssecError as exc:
        return refuse(request, exc, PASSWORD_URL)
    flash(
        request,
        "success",
        {
            "ja": f"パスワードを変更しました。ほかのブラウザのセッション{ended}件を終了しました。",
            "en": f"Password changed. {ended} sessions in other browsers were ended.",
        },
    )
    return redirect(PASSWORD_URL)
