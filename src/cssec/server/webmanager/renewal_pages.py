"""製品ライセンス: air-gapped renewal by file. [更新要求ファイルを作成] downloads a request
signed by this server; [応答ファイルを取り込む] uploads the license service's response and
applies it as an online check would (`licensing.offline_renewal`). Both are CSRF-checked
posts; the import answers with POST-redirect-GET and a flash message, or, when a new code
in the response would lower a live license, with the activation's confirm rows and a form
that posts the same response again, confirmed (the file travels base64 in the page: it is
signed, and is verified again)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.core.license_files import MAX_FILE_BYTES, InvalidLicenseResponse
from cssec.server.licensing.offline_renewal import ImportOutcome, import_response, write_request
from cssec.server.models import User
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render
from cssec.web.i18n import current_language

router = APIRouter(include_in_schema=False)
LICENSES_URL = "/admin/licenses"
REQUEST_URL = LICENSES_URL + "/renewal-request"
RESPONSE_URL = LICENSES_URL + "/renewal-response"
RESPONSE_DATA_CHARS = (MAX_FILE_BYTES // 3 + 1) * 4
"""The confirm form's base64 copy of a response file of the largest size accepted."""


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
async def upload_response(  # noqa: PLR0917  (FastAPI maps each form field to an argument)
    request: Request,
    user: Annotated[User, Depends(require_user)],
    response_file: Annotated[UploadFile | None, File()] = None,
    response_data: Annotated[str, Form(max_length=RESPONSE_DATA_CHARS)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, LICENSES_URL)) is not None:
        return refused
    try:
        data = await _response_bytes(response_file, response_data)
        outcome = import_response(
            ctx_of(request).license_env(), data, actor=user.username, confirm=confirm == "1"
        )
    except CssecError as exc:
        return refuse(request, exc, LICENSES_URL)
    if outcome.held:
        return _confirm_page(request, user, outcome, data)
    level = "success"
    if outcome.already_imported:
        level = "info"
    elif any(result.error is not None for result in outcome.outcomes):
        level = "danger"
    flash(request, level, {"ja": outcome.message("ja"), "en": outcome.message("en")})
    return redirect(LICENSES_URL)


async def _response_bytes(response_file: UploadFile | None, response_data: str) -> bytes:
    """The uploaded file, or the confirm form's copy of it; InvalidLicenseResponse(empty)
    when there is neither."""
    if response_file is not None:
        data = await response_file.read(MAX_FILE_BYTES + 1)
    else:
        try:
            data = base64.b64decode(response_data, validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        raise InvalidLicenseResponse(reason="empty")
    return data


def _confirm_page(request: Request, user: User, outcome: ImportOutcome, data: bytes) -> Response:
    """The held codes' before/after rows (the activation's), and the products that were
    applied meanwhile as a flash."""
    applied = [o for o in outcome.outcomes if o.error not in outcome.held]
    if applied:
        done = replace(outcome, outcomes=applied)
        flash(request, "info", {"ja": done.message("ja"), "en": done.message("en")})
    lang = current_language.get()
    held = [
        {
            "name": refusal.replacement.after.product.name_in(lang),
            "rows": refusal.replacement.rows(lang),
        }
        for refusal in outcome.held
    ]
    return render(
        request,
        "renewal_confirm.html",
        user=user,
        active="licenses",
        held=held,
        response_data=base64.b64encode(data).decode("ascii"),
    )
