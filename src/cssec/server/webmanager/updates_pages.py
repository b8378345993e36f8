"""アップデート → コンポーネント (今すぐアップデート, ロールバック, 段階的配信のタイミング),
and ログ → アップデートログ (サーバ) / (クライアント). Actions answer with POST-redirect-GET
and a flash message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from cssec.core.errors import CssecError
from cssec.server.logs.update_logs import (
    CLIENT_RESULTS,
    RESULT_LABELS,
    TRIGGER_LABELS,
    UpdateResult,
    client_message,
    list_client_log,
    list_server_log,
    versions_text,
)
from cssec.server.models import User
from cssec.server.updates.errors import MAX_BUNDLE_BYTES, BundleRefused
from cssec.server.updates.pilot import read_state as read_pilot
from cssec.server.updates.poller import ComponentPoller
from cssec.server.updates.rollout_timing import LABELS as TIMING_LABELS
from cssec.server.updates.rollout_timing import (
    InvalidRolloutTiming,
    change_rollout_timing,
    rollout_timing,
)
from cssec.server.updates.service import UpdateOutcome
from cssec.server.updates.view import read_overview
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import both, csrf_refusal, refuse
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render
from cssec.web.security import CSRF_FORM_FIELD

router = APIRouter(include_in_schema=False)
COMPONENTS_URL = "/updates/components"
BUNDLE_URL = COMPONENTS_URL + "/import"
BUNDLE_UPLOAD_MAX = MAX_BUNDLE_BYTES + 64 * 1024
"""The request size limit of BUNDLE_URL: a bundle and the form around it."""


def _poller(request: Request) -> ComponentPoller:
    poller: ComponentPoller = request.app.state.component_poller
    return poller


def _components(
    request: Request, user: User, *, timing_error: CssecError | None = None, status: int = 200
) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        overview = read_overview(session, now=ctx.clock.now(), tz=ctx.tz, data_root=ctx.data.root)
        pilot = read_pilot(session, now=ctx.clock.now())
        session.commit()  # the pilot settings row, made on first read
    error = None if timing_error is None else both(timing_error)
    return render(
        request,
        "components.html",
        user=user,
        active="components",
        overview=overview,
        pilot=pilot,
        result_labels=RESULT_LABELS,
        rollout_timing=rollout_timing(ctx.data.root),
        timing_labels=TIMING_LABELS,
        timing_error=error,
        status_code=status,
    )


@router.get(COMPONENTS_URL)
async def components_page(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> Response:
    return _components(request, user)


@router.post(COMPONENTS_URL + "/rollout-timing")
async def save_rollout_timing(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    timing: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """段階的配信のタイミング: as `cssec server components rollout-timing`, an event when it
    changes; a value that is none of the three is shown beside the choice (400)."""
    if (refused := csrf_refusal(request, csrf_token, COMPONENTS_URL)) is not None:
        return refused
    ctx = ctx_of(request)
    try:
        with ctx.sessionmaker() as session:
            change = change_rollout_timing(
                session, ctx.data.root, timing, actor=user.username, now=ctx.clock.now()
            )
    except InvalidRolloutTiming as exc:
        return _components(request, user, timing_error=exc, status=400)
    label = TIMING_LABELS[change.after]
    if change.changed:
        message = {
            "ja": f"段階的配信のタイミングを{label['ja']}にしました。",
            "en": f"Staged rollout timing set to {label['en'].lower()}.",
        }
    else:
        message = {
            "ja": f"段階的配信のタイミングは{label['ja']}のままです。",
            "en": f"Staged rollout timing stays {label['en'].lower()}.",
        }
    flash(request, "success" if change.changed else "info", message)
    return redirect(COMPONENTS_URL)


def _flash_outcome(request: Request, outcome: UpdateOutcome) -> None:
    level = {
        UpdateResult.SUCCESS: "success",
        UpdateResult.UP_TO_DATE: "info",
        UpdateResult.ROLLED_BACK: "success",
    }.get(outcome.result, "danger")
    flash(request, level, outcome.message)


@router.post(COMPONENTS_URL + "/update-now")
async def update_now(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, COMPONENTS_URL)) is not None:
        return refused
    _flash_outcome(request, await _poller(request).update_now(actor=user.username))
    return redirect(COMPONENTS_URL)


@router.post(COMPONENTS_URL + "/rollback")
async def rollback(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, COMPONENTS_URL)) is not None:
        return refused
    try:
        outcome = await _poller(request).rollback(actor=user.username)
    except CssecError as exc:
        return refuse(request, exc, COMPONENTS_URL)
    _flash_outcome(request, outcome)
    return redirect(COMPONENTS_URL)


@router.post(BUNDLE_URL)
async def import_bundle_upload(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> Response:
    """[バンドルを取り込む]: the body (up to BUNDLE_UPLOAD_MAX, `app`'s size limit for this
    path alone) is read only once the session is known, then CSRF-checked."""
    try:
        async with request.form(max_files=1, max_fields=2) as form:
            token = form.get(CSRF_FORM_FIELD)
            upload = form.get("bundle_file")
            if isinstance(upload, UploadFile):
                data = await upload.read(MAX_BUNDLE_BYTES + 1)
            else:
                data = b""
    except (MultiPartException, HTTPException, ValueError):  # a form it cannot parse
        return refuse(request, BundleRefused("bad_bundle", "form"), COMPONENTS_URL)
    if (refused := csrf_refusal(request, token if isinstance(token, str) else "",
                                COMPONENTS_URL)) is not None:  # fmt: skip
        return refused
    if not data:
        return refuse(request, BundleRefused("bad_bundle", "no file"), COMPONENTS_URL)
    # python-tuf only when a bundle comes: the idle server does without it.
    from cssec.server.updates.bundle import import_bundle  # noqa: PLC0415

    env = ctx_of(request).license_env()
    _flash_outcome(request, await import_bundle(env, data, actor=user.username))
    return redirect(COMPONENTS_URL)


@router.get("/logs/updates/server")
async def server_update_log(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    result: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen = result if result in RESULT_LABELS else ""
    with ctx.sessionmaker() as session:
        rows = list_server_log(session, page=page, result=chosen or None)
    return render(
        request,
        "update_logs_server.html",
        user=user,
        active="update-log-server",
        result=rows,
        chosen=chosen,
        results=RESULT_LABELS,
        triggers=TRIGGER_LABELS,
        versions_text=versions_text,
    )


@router.get("/logs/updates/client")
async def client_update_log(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    result: Annotated[str, Query(max_length=16)] = "",
    host: Annotated[str, Query(max_length=255)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen = result if result in {r.value for r in CLIENT_RESULTS} else ""
    with ctx.sessionmaker() as session:
        rows = list_client_log(session, page=page, result=chosen or None, hostname=host.strip())
    return render(
        request,
        "update_logs_client.html",
        user=user,
        active="update-log-client",
        result=rows,
        chosen=chosen,
        host=host.strip(),
        results={r.value: RESULT_LABELS[r] for r in CLIENT_RESULTS},
        versions_text=versions_text,
        client_message=client_message,
    )
