"""Air-gapped renewal by file at the support desk: upload a server's request file
(`cssec server license request`), download the signed response for `cssec server license
import` (the service `services.offline_renewal.respond`, audited as ``console:<name>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.core.license_files import MAX_FILE_BYTES, InvalidLicenseRequest
from cssec.vendor_service.console.web import PREFIX, StaffUser, render, require_user, vendor_of
from cssec.vendor_service.services.offline_renewal import respond
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE = "/offline-renewal"

User = Annotated[StaffUser, Depends(require_user)]


@router.get(PAGE)
def offline_renewal_form(request: Request, user: User) -> Response:
    return render(request, "offline_renewal.html", user=user, active="offline-renewal", error=None)


@router.post(PAGE)
async def offline_renewal_respond(
    request: Request,
    user: User,
    request_file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    data = await request_file.read(MAX_FILE_BYTES + 1) if request_file is not None else b""
    vendor = vendor_of(request)
    try:
        if not data:
            raise InvalidLicenseRequest(reason="empty")
        with vendor.session() as session:
            answer = respond(session, data, actor=user.actor, now=vendor.clock.now())
    except CssecError as exc:
        return render(
            request,
            "offline_renewal.html",
            user=user,
            active="offline-renewal",
            error=exc.message(current_language.get()),
            status_code=exc.status,
        )
    stamp = vendor.clock.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        content=answer,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="cssec-license-response-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )
