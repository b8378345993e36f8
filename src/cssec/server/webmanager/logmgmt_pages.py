"""運用管理 → ログ管理 (retention per log, purge now) and the CSV export of every log page
(`<page>.csv` with the page's own filters)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Select

from cssec.core.errors import CssecError
from cssec.core.license import Product
from cssec.core.policy import Operation, decide
from cssec.server.licensing.state import cs_license_state
from cssec.server.logs.client_logs import connection_query, virus_query
from cssec.server.logs.events import Level
from cssec.server.logs.export import (
    SHEETS,
    client_update_query,
    event_query,
    server_update_query,
    stream_csv,
)
from cssec.server.logs.retention import (
    LOG_LABELS,
    MAX_RETENTION_DAYS,
    LogKind,
    purge_logs,
    read_log_settings,
    retention,
    update_log_settings,
)
from cssec.server.logs.update_logs import CLIENT_RESULTS, RESULT_LABELS
from cssec.server.models import User
from cssec.server.webmanager.client_log_pages import CONNECTION_ACTIONS, SCAN_TYPES
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import form_action, refuse
from cssec.server.webmanager.logs import KIND_FILTERS
from cssec.server.webmanager.templating import check_csrf, ctx_of, flash, redirect, render
from cssec.web.i18n import current_language

router = APIRouter(include_in_schema=False)
LOG_MANAGEMENT_URL = "/admin/log-management"
UserDep = Annotated[User, Depends(require_user)]


@router.get(LOG_MANAGEMENT_URL)
async def log_management_page(request: Request, user: UserDep) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        row = read_log_settings(session)
    return render(
        request,
        "log_management.html",
        user=user,
        active="log-management",
        settings=row,
        days={k.value: v for k, v in retention(row).items()},
        labels={k.value: v for k, v in LOG_LABELS.items()},
        max_days=MAX_RETENTION_DAYS,
    )


def _int(value: str) -> int:
    try:
        return int(value.strip() or "0")
    except ValueError:
        return -1


@router.post(LOG_MANAGEMENT_URL)
async def save_log_settings(
    request: Request,
    user: UserDep,
    *,
    virus: Annotated[str, Form(max_length=8)] = "0",
    update: Annotated[str, Form(max_length=8)] = "0",
    system_event: Annotated[str, Form(max_length=8)] = "0",
    connection: Annotated[str, Form(max_length=8)] = "0",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    given = {"virus": virus, "update": update, "system_event": system_event}
    given["connection"] = connection
    return form_action(
        request,
        csrf_token,
        lambda form: update_log_settings(
            form.session,
            {LogKind(k): _int(v) for k, v in given.items()},
            now=form.now,
            state=form.cs_state(),
            actor=user.username,
        ),
        back=LOG_MANAGEMENT_URL,
        done=lambda _: {"ja": "ログの保存期間を保存しました。", "en": "Log retention saved."},
    )


@router.post(LOG_MANAGEMENT_URL + "/purge")
async def purge_now(
    request: Request,
    user: UserDep,
    *,
    log: Annotated[str, Form(max_length=16)] = "",
    days: Annotated[str, Form(max_length=8)] = "",
    confirm: Annotated[str, Form(max_length=4)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Purge one log (or all) of entries older than `days` (empty: each log's retention)."""
    ctx = ctx_of(request)
    try:
        check_csrf(request, csrf_token)
        if confirm != "1":
            flash(
                request,
                "warning",
                {
                    "ja": "削除は実行していません。"
                    "[削除してよい]にチェックを入れてから実行してください。",
                    "en": "Nothing was deleted. Tick the confirmation box, then purge again.",
                },
            )
            return redirect(LOG_MANAGEMENT_URL)
        kinds = [LogKind(log)] if log in {k.value for k in LogKind} else list(LogKind)
        now = ctx.clock.now()
        with ctx.sessionmaker() as session:
            state = cs_license_state(session, now=now, tz=ctx.tz)
            ages = None
            if days.strip():
                ages = {k: _int(days) for k in kinds}
            elif len(kinds) == 1:
                kept = retention(read_log_settings(session))[kinds[0]]
                ages = {kinds[0]: kept} if kept > 0 else {}
            result = purge_logs(
                session, now=now, state=state, actor=user.username, trigger="manual",
                older_than=ages,
            )  # fmt: skip
    except CssecError as exc:
        return refuse(request, exc, LOG_MANAGEMENT_URL)
    flash(
        request,
        "success",
        {
            "ja": f"ログを削除しました (合計 {result.total} 件)。"
            "内訳はシステムイベントログにあります。",
            "en": f"Logs purged ({result.total} entries in all); the counts per log are in the "
            "system event log.",
        },
    )
    return redirect(LOG_MANAGEMENT_URL)


def _csv(request: Request, key: str, query: Select[object]) -> StreamingResponse:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=ctx.clock.now(), tz=ctx.tz)
    decide(Product.CS, state, Operation.WEBMANAGER_VIEW).raise_if_refused()
    sheet = SHEETS[key]
    stamp = ctx.clock.now().astimezone(ctx.tz).strftime("%Y%m%d-%H%M%S")
    # The page's own column headers, translated now (the body streams after this returns).
    gettext = request.app.state.templates.env.globals["_"]
    headers = {h: gettext(h) for h in sheet.headers}
    body = stream_csv(
        ctx.sessionmaker,
        sheet,
        query,
        lang=current_language.get(),
        tz=ctx.tz,
        translate=headers.__getitem__,
    )
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{sheet.name}-{stamp}.csv"'},
    )


@router.get("/logs/virus.csv")
async def virus_csv(
    request: Request,
    user: UserDep,
    host: Annotated[str, Query(max_length=255)] = "",
    threat: Annotated[str, Query(max_length=255)] = "",
    scan_type: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    chosen = scan_type if scan_type in SCAN_TYPES else ""
    query = virus_query(hostname=host.strip(), threat=threat.strip(), scan_type=chosen)
    return _csv(request, "virus", query)


@router.get("/logs/connection.csv")
async def connection_csv(
    request: Request,
    user: UserDep,
    host: Annotated[str, Query(max_length=255)] = "",
    action: Annotated[str, Query(max_length=32)] = "",
    failures: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    chosen = action if action in CONNECTION_ACTIONS else ""
    query = connection_query(hostname=host.strip(), action=chosen, failures_only=failures == "1")
    return _csv(request, "connection", query)


@router.get("/logs/system-events.csv")
async def system_events_csv(
    request: Request,
    user: UserDep,
    level: Annotated[str, Query(max_length=16)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    chosen_level = level if level in {lv.value for lv in Level} else ""
    chosen_kind = kind if kind in KIND_FILTERS else ""
    return _csv(request, "system_events", event_query(kind_prefix=chosen_kind, level=chosen_level))


@router.get("/logs/updates/server.csv")
async def server_update_csv(
    request: Request, user: UserDep, result: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    chosen = result if result in RESULT_LABELS else ""
    return _csv(request, "update_server", server_update_query(result=chosen))


@router.get("/logs/updates/client.csv")
async def client_update_csv(
    request: Request,
    user: UserDep,
    result: Annotated[str, Query(max_length=16)] = "",
    host: Annotated[str, Query(max_length=255)] = "",
) -> Response:
    chosen = result if result in {r.value for r in CLIENT_RESULTS} else ""
    query = client_update_query(result=chosen, hostname=host.strip())
    return _csv(request, "update_client", query)
