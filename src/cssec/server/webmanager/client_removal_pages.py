"""クライアント一覧 → 削除: remove a client the site no longer uses, after a confirmation
page (a POST with the CSRF token). It stops counting against the seats at once; its log
rows stay. Removing a client is never needed to install one: install keeps working over
the seats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Request
from fastapi.responses import Response

from cssec.server.clients.seats import ClientNotFound, refresh_seat_state, remove_client
from cssec.server.models import Client, User
from cssec.server.notices.service import deliver_pending
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render

router = APIRouter(include_in_schema=False)
CLIENTS_URL = "/clients"
UserDep = Annotated[User, Depends(require_user)]
ClientId = Annotated[int, Path(ge=1, le=2**62)]

_GONE = {
    "ja": "そのクライアントは見つかりません (すでに削除されています)。",
    "en": "That client was not found (already removed).",
}


@router.get(CLIENTS_URL + "/{client_id}/remove")
async def confirm_removal(request: Request, user: UserDep, client_id: ClientId) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        client = session.get(Client, client_id)
        if client is not None:
            session.expunge(client)
    if client is None:
        flash(request, "danger", _GONE)
        return redirect(CLIENTS_URL)
    return render(request, "client_remove.html", user=user, active="clients", client=client)


@router.post(CLIENTS_URL + "/{client_id}/remove")
async def remove(
    request: Request,
    user: UserDep,
    client_id: ClientId,
    background: BackgroundTasks,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    back = f"{CLIENTS_URL}/{client_id}/remove"
    if (refused := csrf_refusal(request, csrf_token, back)) is not None:
        return refused
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        try:
            removed = remove_client(session, client_id, actor=user.username, now=now)
        except ClientNotFound:
            flash(request, "danger", _GONE)
            return redirect(CLIENTS_URL)
        hostname = removed.hostname
        refresh_seat_state(session, now=now, window_days=ctx.settings.seat_window_days)
        session.commit()
    background.add_task(deliver_pending, ctx.sessionmaker, ctx.clock)
    flash(
        request,
        "success",
        {
            "ja": f"クライアント {hostname}を削除しました。ログは残っています。",
            "en": f"Client {hostname} removed; its log entries are kept.",
        },
    )
    return redirect(CLIENTS_URL)
