"""クライアント一覧 protection actions: the per-client real-time scan switch (and the default
for new clients), and ウイルス感染復旧サービス (Damage Cleanup) requests: button → confirm
page → queued request. Actions answer with POST-redirect-GET and a flash message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.server.clients.errors import ClientNotFound
from cssec.server.models import Client, User
from cssec.server.protection.damage_cleanup import (
    check_cleanup_allowed,
    latest_requests,
    request_cleanup,
)
from cssec.server.protection.realtime import (
    RealtimeSetting,
    parse_folders,
    read_defaults,
    running_for,
    set_client_realtime,
    set_realtime_defaults,
    settings_for,
)
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import FormScope, form_action, refuse
from cssec.server.webmanager.templating import ctx_of, render

router = APIRouter(include_in_schema=False)
CLIENTS_URL = "/clients"
DEFAULT_URL = "/clients/realtime-default"
CLIENT_ID = Path(ge=1, le=2**62)
CLEANUP_STATUS = {
    "pending": {"ja": "依頼済み (未配信)", "en": "Requested (not yet delivered)"},
    "delivered": {"ja": "クライアントで実行中", "en": "Running on the client"},
    "done": {"ja": "完了", "en": "Done"},
}


def clients_extras(session: Session, client_ids: Sequence[int]) -> dict[str, Any]:
    """The protection columns of the client list (real-time switch, cleanup, outbreak policy) for
    the clients on the page."""
    return {
        "realtime": settings_for(session, client_ids),
        "realtime_running": running_for(session, client_ids),
        "realtime_default": read_defaults(session),
        "cleanups": latest_requests(session, client_ids),
        "cleanup_status": CLEANUP_STATUS,
    }


def _client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise ClientNotFound(client=str(client_id))
    return client


def _setting(on: str, folders: str, keep: RealtimeSetting | None) -> RealtimeSetting:
    wanted = on == "1"
    if keep is not None:
        return RealtimeSetting(on=wanted, folders=keep.folders)
    return RealtimeSetting(on=wanted, folders=parse_folders(folders))


@router.get(CLIENTS_URL + "/{client_id}/realtime")
async def realtime_page(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    client_id: Annotated[int, CLIENT_ID],
) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        try:
            client = _client(session, client_id)
        except CssecError as exc:
            return refuse(request, exc, CLIENTS_URL)
        setting = settings_for(session, [client.id])[client.id]
        running = running_for(session, [client.id]).get(client.id)
    return render(
        request,
        "client_realtime.html",
        user=user,
        active="clients",
        client=client,
        setting=setting,
        running=running,
    )


@router.post(CLIENTS_URL + "/{client_id}/realtime")
async def set_realtime(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    client_id: Annotated[int, CLIENT_ID],
    on: Annotated[str, Form(max_length=1)] = "",
    folders: Annotated[str, Form(max_length=60_000)] = "",
    keep_folders: Annotated[str, Form(max_length=1)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    back = CLIENTS_URL if keep_folders == "1" else f"{CLIENTS_URL}/{client_id}/realtime"

    def switch(form: FormScope) -> tuple[str, RealtimeSetting]:
        client = _client(form.session, client_id)
        keep = settings_for(form.session, [client.id])[client.id] if keep_folders == "1" else None
        setting = _setting(on, folders, keep)
        set_client_realtime(
            form.session,
            [client.id],
            setting=setting,
            state=form.cs_state(),
            now=form.now,
            actor=user.username,
        )
        return client.hostname, setting

    def done(result: tuple[str, RealtimeSetting]) -> dict[str, str]:
        host, setting = result
        return {
            "ja": f"{host}のリアルタイム検索を{'オン' if setting.on else 'オフ'}にしました。"
            "次のハートビートでクライアントに反映されます。",
            "en": f"Real-time scan on {host} is now {'on' if setting.on else 'off'}; the "
            "client picks it up at its next heartbeat.",
        }

    return form_action(request, csrf_token, switch, done=done, back=back, then=CLIENTS_URL)


@router.post(DEFAULT_URL)
async def set_default(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    on: Annotated[str, Form(max_length=1)] = "",
    folders: Annotated[str, Form(max_length=60_000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:

    def save(form: FormScope) -> None:
        set_realtime_defaults(
            form.session,
            setting=_setting(on, folders, None),
            state=form.cs_state(),
            now=form.now,
            actor=user.username,
        )

    return form_action(
        request,
        csrf_token,
        save,
        back=CLIENTS_URL,
        done=lambda _: {
            "ja": "新しいクライアントのリアルタイム検索の既定値を保存しました"
            " (インストール済みのクライアントの設定は変わりません)。",
            "en": "Saved the real-time scan default for new clients (clients already "
            "installed keep their own setting).",
        },
    )


@router.get(CLIENTS_URL + "/{client_id}/cleanup")
async def cleanup_confirm(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    client_id: Annotated[int, CLIENT_ID],
) -> Response:
    """The confirmation step; a refusal (no DCS license) is said here, before anything."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        try:
            client = _client(session, client_id)
            check_cleanup_allowed(session, now=now, tz=ctx.tz)
        except CssecError as exc:
            return refuse(request, exc, CLIENTS_URL)
        latest = latest_requests(session, [client.id]).get(client.id)
    return render(
        request,
        "cleanup_confirm.html",
        user=user,
        active="clients",
        client=client,
        latest=latest,
        cleanup_status=CLEANUP_STATUS,
    )


@router.post(CLIENTS_URL + "/{client_id}/cleanup")
async def cleanup_request(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    client_id: Annotated[int, CLIENT_ID],
    paths: Annotated[str, Form(max_length=60_000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:

    def queue(form: FormScope) -> str:
        client = _client(form.session, client_id)
        host = client.hostname
        request_cleanup(
            form.session,
            [client.id],
            paths=paths,
            now=form.now,
            tz=form.tz,
            actor=user.username,
        )
        return host

    return form_action(
        request,
        csrf_token,
        queue,
        back=CLIENTS_URL,
        done=lambda host: {
            "ja": f"{host}にウイルス感染復旧の実行を依頼しました。"
            "次のハートビートでクライアントが実行し、結果はウイルスログに記録されます。",
            "en": f"Damage Cleanup was requested on {host}. The client runs it at its next "
            "heartbeat; the results land in the virus log.",
        },
    )
