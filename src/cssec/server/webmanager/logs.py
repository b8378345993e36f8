"""ログ → システムイベント: the system event log, newest first, filterable by level and kind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cssec.server.logs.events import LEVEL_LABELS, Level, list_events
from cssec.server.models import User
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.templating import ctx_of, render

router = APIRouter(include_in_schema=False)

KIND_FILTERS = ("license.", "clock.", "auth.", "server.", "vendor.")


@router.get("/logs/system-events")
async def system_events(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    level: Annotated[str, Query(max_length=16)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen_level = Level(level) if level in {lv.value for lv in Level} else None
    chosen_kind = kind if kind in KIND_FILTERS else ""
    with ctx.sessionmaker() as session:
        result = list_events(
            session, page=page, per_page=50, kind_prefix=chosen_kind or None, level=chosen_level
        )
    return render(
        request,
        "system_events.html",
        user=user,
        active="system-events",
        result=result,
        level=chosen_level.value if chosen_level else "",
        kind=chosen_kind,
        levels=[(lv.value, LEVEL_LABELS[lv]) for lv in Level],
        kinds=KIND_FILTERS,
    )
