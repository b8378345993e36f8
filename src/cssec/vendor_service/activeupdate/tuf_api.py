"""ActiveUpdate as TUF over HTTP, license-gated exactly like the signed manifest.

GET /api/v1/tuf/{role}.json, /api/v1/tuf/{version}.{role}.json   the metadata (`tuf_repo`)
GET /api/v1/tuf/targets/{dir}/{sha256}.{name}                   a target file (consistent
                                                                snapshot: by its hash)
GET /api/v1/tuf/root-endorsement   the vendor signing key's statement binding the newest
                                   root.json's SHA-256 (a server's first step into TUF)

Every request carries `X-Cssec-Activation-Code` (and `X-Cssec-Server-Id`) and passes
`services.authorize_download` first: the same refusals, codes and ja/en messages as the
manifest (`invalid_activation_code`, `revoked_activation_code`, `license_expired` …). A
target file is checked for its component too, as the plain file download is
(`services.authorize_component`): the Damage Cleanup template only to a live Damage Cleanup
Services code (403 `product_not_licensed`).
A vendor without a TUF root answers 404 `not_found` on every path here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import FileResponse, JSONResponse, Response

from cssec.core.errors import NotFound
from cssec.vendor_service.activeupdate.api import (
    _BAD_CODE,
    _FILE_REFUSED,
    _RATE_LIMITED,
    _REFUSED,
    _UNAVAILABLE,
    _error,
    _example,
    accel_redirect,
)
from cssec.vendor_service.activeupdate.services import authorize_component, authorize_download
from cssec.vendor_service.activeupdate.tuf_repo import (
    metadata_file,
    needs_sync,
    root_endorsement,
    sync_repository,
    target_file,
)
from cssec.vendor_service.api.deps import get_vendor, rate_limit
from cssec.vendor_service.api.schemas import EXAMPLES
from cssec.vendor_service.errors import ActivationCodeRequired
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services._context import read_transaction

router = APIRouter(prefix="/tuf", tags=["activeupdate"])

NO_STORE = "no-store"
IMMUTABLE = "public, max-age=31536000, immutable"

CodeHeader = Annotated[
    str | None, Header(description="An activation code of the contract.", max_length=100)
]
ServerHeader = Annotated[
    str | None, Header(description="The C/S Sec. server's own id.", max_length=128)
]
_LIMIT = [Depends(rate_limit("activeupdate_tuf", "activeupdate_rate_limit"))]


def _responses(
    ok: dict[str, Any], *, refused: dict[str, Any] = _REFUSED
) -> dict[int | str, dict[str, Any]]:
    """The answers every TUF route gives, as ActiveUpdate's own routes document them."""
    return {
        200: ok,
        400: _BAD_CODE,
        401: _error(
            "No X-Cssec-Activation-Code header.",
            {"activation_code_required": _example(ActivationCodeRequired())},
        ),
        403: refused,
        404: _error("No such metadata or target.", {"not_found": _example(NotFound())}),
        422: _error("A header is too long.", {"v": EXAMPLES["validation_error"]}),
        429: _RATE_LIMITED,
        503: _UNAVAILABLE,
    }


def _code(value: str | None) -> str:
    code = (value or "").strip()
    if not code:
        raise ActivationCodeRequired()
    return code


@router.get(
    "/root-endorsement",
    summary="The vendor's signed statement binding the newest root.json",
    description="`{version, endorsement}`: the endorsement is a `core.signing` envelope of "
    '`{"v": 1, "kind": "tuf_root", "version", "sha256"}`, signed with the status-signing '
    "key; fetch `{version}.root.json` and compare its SHA-256.",
    responses=_responses({"description": "The endorsement."}),
    dependencies=_LIMIT,
)
def get_root_endorsement(
    vendor: Annotated[Vendor, Depends(get_vendor)],
    x_cssec_activation_code: CodeHeader = None,
    x_cssec_server_id: ServerHeader = None,
) -> JSONResponse:
    code = _code(x_cssec_activation_code)

    def work() -> dict[str, Any]:
        with vendor.session() as session, read_transaction(session):
            authorize_download(session, code)
            return root_endorsement(session)

    return JSONResponse(vendor.retrying(work), headers={"Cache-Control": NO_STORE})


@router.get(
    "/targets/{path:path}",
    response_class=FileResponse,
    summary="A TUF target file, by `<dir>/<sha256>.<name>`",
    responses=_responses(
        {
            "description": "The file.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        refused=_FILE_REFUSED,
    ),
    dependencies=_LIMIT,
)
def get_target(
    path: str,
    vendor: Annotated[Vendor, Depends(get_vendor)],
    x_cssec_activation_code: CodeHeader = None,
    x_cssec_server_id: ServerHeader = None,
) -> Response:
    code = _code(x_cssec_activation_code)

    def work() -> Any:
        with vendor.session() as session, read_transaction(session):
            standing = authorize_download(session, code)
            blob, component = target_file(session, path)
            authorize_component(standing, component)
            return blob

    blob = vendor.retrying(work)
    prefix = vendor.settings.accel_redirect_prefix
    if prefix:  # behind nginx: it sends the file (activeupdate.api.accel_redirect)
        return accel_redirect(prefix, blob, {"Cache-Control": IMMUTABLE})
    return FileResponse(
        blob, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


@router.get(
    "/{name}",
    summary="TUF metadata: timestamp.json, root.json or {version}.{role}.json",
    description="The signed metadata as stored (the same bytes from every vendor node). "
    "timestamp.json is re-signed by the service whenever less than half of its one-day "
    "lifetime is left, or a publish changed the targets.",
    responses=_responses(
        {"description": "The metadata file.", "content": {"application/json": {}}}
    ),
    dependencies=_LIMIT,
)
def get_metadata(
    name: str,
    vendor: Annotated[Vendor, Depends(get_vendor)],
    x_cssec_activation_code: CodeHeader = None,
    x_cssec_server_id: ServerHeader = None,
) -> Response:
    code = _code(x_cssec_activation_code)

    def work() -> bytes:
        with vendor.session() as session:
            with read_transaction(session):
                authorize_download(session, code)
                stale = name == "timestamp.json" and needs_sync(session)
            if stale:
                sync_repository(session)
            with read_transaction(session):
                return metadata_file(session, name)

    body = vendor.retrying(work)
    cache = NO_STORE if name in ("timestamp.json", "root.json") else IMMUTABLE
    return Response(body, media_type="application/json", headers={"Cache-Control": cache})


__all__ = ["router"]
