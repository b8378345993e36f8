"""ログ → ウイルスログ and 接続状態の確認ログ: newest first, filtered, 50 a page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cssec.server.logs.client_logs import list_connections, list_virus_log
from cssec.server.logs.labels import SCAN_TYPE_LABELS, VIRUS_ACTION_LABELS
from cssec.server.models import User
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.templating import ctx_of, render

router = APIRouter(include_in_schema=False)

SCAN_TYPES = SCAN_TYPE_LABELS
ACTIONS = VIRUS_ACTION_LABELS
CONNECTION_ACTIONS = (
    "enroll",
    "heartbeat",
    "manifest",
    "files",
    "update-result",
    "virus-log",
    "cleanup-result",
    "outbreak-policy",
    "tuf",
    "vendor-keys",
    "tls-renewals",
)


@router.get("/logs/virus")
async def virus_log_page(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    host: Annotated[str, Query(max_length=255)] = "",
    threat: Annotated[str, Query(max_length=255)] = "",
    scan_type: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen_type = scan_type if scan_type in SCAN_TYPES else ""
    with ctx.sessionmaker() as session:
        result = list_virus_log(
            session, page=page, hostname=host.strip(), threat=threat.strip(), scan_type=chosen_type
        )
    return render(
        request,
        "virus_log.html",
        user=user,
        active="virus-log",
        result=result,
        host=host.strip(),
        threat=threat.strip(),
        scan_type=chosen_type,
        scan_types=SCAN_TYPES,
        actions=ACTIONS,
    )


@router.get("/logs/connection")
async def connection_log_page(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    host: Annotated[str, Query(max_length=255)] = "",
    action: Annotated[str, Query(max_length=32)] = "",
    failures: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen_action = action if action in CONNECTION_ACTIONS else ""
    failures_only = failures == "1"
    with ctx.sessionmaker() as session:
        result = list_connections(
            session,
            page=page,
            hostname=host.strip(),
            action=chosen_action,
            failures_only=failures_only,
        )
    return render(
        request,
        "connection_log.html",
        user=user,
        active="connection-log",
        result=result,
        host=host.strip(),
        action=chosen_action,
        failures="1" if failures_only else "",
        connection_actions=CONNECTION_ACTIONS,
    )
