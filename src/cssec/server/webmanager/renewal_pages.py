"""製品ライセンス: air-gapped renewal by file. [更新要求ファイルを作成] downloads a request
signed by this server; [応答ファイルを取り込む] uploads the license service's response and
applies it as an online check would (`licensing.offline_renewal`). Both are CSRF-checked
posts; the import answers with POST-redirect-GET and a flash message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.core.license_files import MAX_FILE_BYTES, InvalidLicenseResponse
from cssec.server.licensing.offline_renewal import import_response, write_request
from cssec.server.models import User
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.templating import ctx_of, flash, redirect

router = APIRouter(include_in_schema=False)
LICENSES_URL = "/admin/licenses"
REQUEST_URL = LICENSES_URL + "/renewal-request"
RESPONSE_URL = LICENSES_URL + "/renewal-response"


@router.post(REQUEST_URL)
async def download_request(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, LICENSES_URL)) is not None:
        return refused
    ctx = ctx_of(request)
    try:
        written = write_request(ctx.license_env(), actor=user.username)
    except CssecError as exc:
        return refuse(request, exc, LICENSES_URL)
    stamp = ctx.clock.now().astimezone(ctx.tz).strftime("%Y%m%d-%H%M%S")
    return Response(
        content=written.data,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="cssec-license-request-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post(RESPONSE_URL)
async def upload_response(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    response_file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, LICENSES_URL)) is not None:
        return refused
    data = await response_file.read(MAX_FILE_BYTES + 1) if response_file is not None else b""
    try:
        if not data:
            raise InvalidLicenseResponse(reason="empty")
        outcome = import_response(ctx_of(request).license_env(), data, actor=user.username)
    except CssecError as exc:
        return refuse(request, exc, LICENSES_URL)
    level = "success"
    if outcome.already_imported:
        level = "info"
    elif any(result.error is not None for result in outcome.outcomes):
        level = "danger"
    flash(request, level, {"ja": outcome.message("ja"), "en": outcome.message("en")})
    return redirect(LICENSES_URL)
