"""Air-gapped renewal by file, done by the customer: upload the request file a server made
(`cssec server license request`), download the vendor-signed response for
`cssec server license import` (or the upload on [製品ライセンス]). The response comes from
the same service as the CLI's and the console's (`services.offline_renewal.respond`),
audited as the customer; only requests naming the customer's own codes are answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.core.license_files import MAX_FILE_BYTES, InvalidLicenseRequest
from cssec.vendor_service.portal.web import (
    PREFIX,
    PortalViewer,
    not_found,
    render,
    require_viewer,
    vendor_of,
)
from cssec.vendor_service.services.portal import respond_to_license_request, viewer_contract
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Viewer = Annotated[PortalViewer, Depends(require_viewer)]
PAGE = "/contracts/{contract_id:int}/license-file"


def _form(request: Request, viewer: PortalViewer, contract_id: int, **context: object) -> Response:
    with vendor_of(request).session() as session:
        contract = viewer_contract(session, viewer, contract_id)
        if contract is None:
            raise not_found(request)
        context.setdefault("error", None)
        return render(request, "license_file.html", viewer=viewer, active="contracts",
                      contract=contract, **context)  # fmt: skip


@router.get(PAGE)
def license_file_form(request: Request, viewer: Viewer, contract_id: int) -> Response:
    return _form(request, viewer, contract_id)


@router.post(PAGE)
def license_file_answer(
    request: Request,
    viewer: Viewer,
    contract_id: int,
    request_file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    data = request_file.file.read(MAX_FILE_BYTES + 1) if request_file is not None else b""
    vendor = vendor_of(request)
    try:
        if not data:
            raise InvalidLicenseRequest(reason="empty")
        if len(data) > MAX_FILE_BYTES:
            raise InvalidLicenseRequest(reason="too_large")
        with vendor.session() as session:
            if viewer_contract(session, viewer, contract_id) is None:
                raise not_found(request)
            answer = respond_to_license_request(session, viewer, data, contract_id=contract_id)
    except CssecError as exc:
        if exc.status == 404:
            raise
        return _form(request, viewer, contract_id, status_code=exc.status,
                     error=exc.message(current_language.get()))  # fmt: skip
    stamp = vendor.clock.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        content=answer,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="cssec-license-response-{stamp}.json"'
        },
    )
