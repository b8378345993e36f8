"""運用管理 → アウトブレークモニタ (the threshold and notifications) and ログ → アウトブレーク
警告 (the alerts, each with a 確認済みにする button)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response

from cssec.server.models import User
from cssec.server.outbreak.monitor import (
    MonitorForm,
    acknowledge_alert,
    list_alerts,
    read_monitor,
    update_monitor,
)
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import form_action
from cssec.server.webmanager.templating import ctx_of, render

router = APIRouter(include_in_schema=False)
MONITOR_URL = "/admin/outbreak-monitor"
ALERTS_URL = "/logs/outbreak-alerts"
PER_PAGE = 50
UserDep = Annotated[User, Depends(require_user)]


def _int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        return -1


@router.get(MONITOR_URL)
async def monitor_page(request: Request, user: UserDep) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        settings = read_monitor(session)
    return render(
        request, "outbreak_monitor.html", user=user, active="outbreak-monitor", settings=settings
    )


@router.post(MONITOR_URL)
async def save_monitor(
    request: Request,
    user: UserDep,
    *,
    enabled: Annotated[str, Form(max_length=4)] = "",
    min_detections: Annotated[str, Form(max_length=8)] = "",
    min_clients: Annotated[str, Form(max_length=8)] = "",
    window_minutes: Annotated[str, Form(max_length=8)] = "",
    cooldown_minutes: Annotated[str, Form(max_length=8)] = "",
    webhook_url: Annotated[str, Form(max_length=600)] = "",
    smtp_host: Annotated[str, Form(max_length=300)] = "",
    smtp_port: Annotated[str, Form(max_length=8)] = "25",
    mail_from: Annotated[str, Form(max_length=300)] = "",
    mail_to: Annotated[str, Form(max_length=1100)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    form = MonitorForm(
        enabled=enabled == "1",
        min_detections=_int(min_detections),
        min_clients=_int(min_clients),
        window_minutes=_int(window_minutes),
        cooldown_minutes=_int(cooldown_minutes),
        webhook_url=webhook_url,
        smtp_host=smtp_host,
        smtp_port=_int(smtp_port or "25"),
        mail_from=mail_from,
        mail_to=mail_to,
    )
    return form_action(
        request,
        csrf_token,
        lambda scope: update_monitor(
            scope.session, form, now=scope.now, state=scope.cs_state(), actor=user.username
        ),
        back=MONITOR_URL,
        done=lambda _: {
            "ja": "アウトブレークモニタの設定を保存しました。",
            "en": "Outbreak monitor settings saved.",
        },
    )


@router.get(ALERTS_URL)
async def alerts_page(
    request: Request, user: UserDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        rows, total = list_alerts(session, page=page, per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render(
        request,
        "outbreak_alerts.html",
        user=user,
        active="outbreak-alerts",
        alerts=rows,
        page=page,
        pages=pages,
        total=total,
    )


@router.post(ALERTS_URL + "/{alert_id}/acknowledge")
async def acknowledge(
    request: Request,
    user: UserDep,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    back = "/dashboard" if next == "/dashboard" else ALERTS_URL
    return form_action(
        request,
        csrf_token,
        lambda form: acknowledge_alert(
            form.session, alert_id, now=form.now, state=form.cs_state(), actor=user.username
        ),
        back=back,
        done=lambda _: {
            "ja": f"アウトブレークの警告 #{alert_id}を確認済みにしました。",
            "en": f"Outbreak alert #{alert_id} acknowledged.",
        },
    )
