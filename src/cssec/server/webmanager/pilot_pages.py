"""The pilot group on the Web manager (issue 24): pilot mode and its promotion rule, the
administrator's approval (both on コンポーネント), and each client's membership (on the
client list). Every form carries the CSRF token and answers with POST-redirect-GET."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.server.clients.errors import ClientNotFound
from cssec.server.models import Client, User
from cssec.server.updates.pilot import configure, set_pilot
from cssec.server.updates.poller import ComponentPoller
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.templating import ctx_of, flash, redirect

router = APIRouter(include_in_schema=False)

COMPONENTS_URL = "/updates/components"
CLIENTS_URL = "/clients"
MAX_HOURS = 24 * 30


@router.post(COMPONENTS_URL + "/pilot")
async def save_pilot_settings(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    enabled: Annotated[str, Form(max_length=8)] = "",
    promotion: Annotated[str, Form(max_length=16)] = "delay",
    hours: Annotated[str, Form(max_length=8)] = "24",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, COMPONENTS_URL)) is not None:
        return refused
    try:
        delay = max(1, min(int(hours.strip()), MAX_HOURS))
    except ValueError:
        delay = 24
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session, session.begin():
        configure(
            session,
            enabled=enabled == "on",
            promote_hours=None if promotion == "manual" else delay,
            now=ctx.clock.now(),
        )
    flash(
        request,
        "success",
        {"ja": "パイロットグループの設定を保存しました。", "en": "Pilot group settings saved."},
    )
    return redirect(COMPONENTS_URL)


@router.post(COMPONENTS_URL + "/pilot/approve")
async def approve_pilot(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, COMPONENTS_URL)) is not None:
        return refused
    poller: ComponentPoller = request.app.state.component_poller
    done = await poller.approve_pilot(actor=user.username)
    if done:
        message = {
            "ja": "パイロットグループで確認したコンポーネントをすべてのクライアントに配信します。",
            "en": "The components tried by the pilot group now go to every client.",
        }
        flash(request, "success", message)
    else:
        message = {
            "ja": "パイロット中のコンポーネントはありません。",
            "en": "No components are in pilot.",
        }
        flash(request, "info", message)
    return redirect(COMPONENTS_URL)


@router.post(CLIENTS_URL + "/{client_id}/pilot")
async def toggle_pilot(
    request: Request,
    client_id: int,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    pilot: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, CLIENTS_URL)) is not None:
        return refused
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session, session.begin():
        client = session.get(Client, client_id)
        if client is None:
            return refuse(request, ClientNotFound(client=str(client_id)), CLIENTS_URL)
        set_pilot(session, client_id, on=pilot == "on")
        host = client.hostname
    if pilot == "on":
        message = {
            "ja": f"{host}をパイロットグループに追加しました。",
            "en": f"{host} joined the pilot group.",
        }
    else:
        message = {
            "ja": f"{host}をパイロットグループから外しました。",
            "en": f"{host} left the pilot group.",
        }
    flash(request, "success", message)
    return redirect(CLIENTS_URL)
