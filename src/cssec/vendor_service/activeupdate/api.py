"""ActiveUpdate's HTTP API: the signed manifest and the component files.

POST /api/v1/activeupdate/manifest  {activation_code, server_id} → the signed envelope
GET  /api/v1/activeupdate/files/{sha256}  (X-Cssec-Activation-Code, X-Cssec-Server-Id)
     → the file's bytes, ETag = the SHA-256, cacheable forever (content-addressed)
POST /api/v1/activeupdate/health  {activation_code, report} → {taken} (staged rollouts:
     `health_intake`)

All check the activation code first (`services.authorize_download`) and are rate
limited per client IP (`activeupdate_rate_limit`, one counter per endpoint).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cssec.core.components import COMPONENT_FILENAMES, ComponentVersion
from cssec.core.errors import CssecError, LicenseExpired, NotFound
from cssec.core.health_report import MAX_BODY_BYTES
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Operation, decide, not_licensed
from cssec.vendor_service.activeupdate.rollout_errors import HealthReportRefused
from cssec.vendor_service.activeupdate.services import (
    authorize_component,
    authorize_download,
    component_file,
    current_manifest,
)
from cssec.vendor_service.api.deps import get_vendor, rate_limit
from cssec.vendor_service.api.schemas import EXAMPLES, CodeText, ErrorBody, ServerId
from cssec.vendor_service.errors import ActivationCodeRequired, ComponentFileUnavailable
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services._context import read_transaction

router = APIRouter(prefix="/activeupdate", tags=["activeupdate"])

IMMUTABLE = "public, max-age=31536000, immutable"
_SERVER = "9f1c2e4a-7b3d-4e21-9a55-0c6f1d2e3b4a"
_CODE = "CS-0R8C-1B0Z-K6Q9E-D5M2A-4HTW7-XJ3NS"
_SHA = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


class ManifestRequest(BaseModel):
    activation_code: CodeText = Field(
        description="Any current activation code of the contract (normally C/S Sec.'s).",
        examples=[_CODE],
    )
    server_id: ServerId = Field(description="The C/S Sec. server's own id.", examples=[_SERVER])


class ComponentEntry(BaseModel):
    version: int = Field(ge=1, examples=[3])
    sha256: str = Field(description="Lower-case hex; also the file's URL and ETag.")
    size: int = Field(description="Bytes.", examples=[1234])
    published_at: str = Field(description="UTC instant with a Z.")


class ManifestComponents(BaseModel):
    virus_pattern: ComponentEntry
    damage_cleanup_template: ComponentEntry
    spyware_pattern: ComponentEntry
    scan_engine: ComponentEntry


class ManifestStatement(BaseModel):
    model_config = ConfigDict(extra="allow")
    v: Literal[1]
    kind: Literal["activeupdate_manifest"]
    issued_at: str = Field(description="When this manifest was signed (UTC, Z).")
    serial: int = Field(description="Grows with every publish; never goes back.")
    components: ManifestComponents


def _entry(version: int, size: int) -> dict[str, Any]:
    return {
        "version": version,
        "sha256": _SHA,
        "size": size,
        "published_at": "2026-11-27T20:00:00Z",
    }


class ManifestResponse(BaseModel):
    """Verify with `core.components.verify_manifest` and a key from GET /api/v1/keys."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "statement": {
                        "v": 1,
                        "kind": "activeupdate_manifest",
                        "issued_at": "2026-11-27T20:05:00Z",
                        "serial": 5,
                        "components": {
                            "virus_pattern": _entry(2, 1302),
                            "damage_cleanup_template": _entry(1, 184),
                            "spyware_pattern": _entry(1, 512),
                            "scan_engine": _entry(1, 161),
                        },
                    },
                    "alg": "ed25519",
                    "kid": "ed25519-3f9a0c1b2d4e5f60",
                    "signature": "q1v1…base64…==",
                }
            ]
        }
    )
    statement: ManifestStatement
    alg: Literal["ed25519"]
    kid: str
    signature: str = Field(
        description="Base64 Ed25519 signature over core.signing.canonical_json of "
        '{"alg", "kid", "statement"}.'
    )


def _example(error: CssecError) -> dict[str, Any]:
    return {"summary": error.code, "value": error.to_dict("en")}


def _license_expired_example() -> dict[str, Any]:
    try:
        decide(Product.CS, LicenseState.EXPIRED, Operation.ACTIVEUPDATE_DOWNLOAD).raise_if_refused()
    except LicenseExpired as refused:
        return _example(refused)
    raise AssertionError("the policy must refuse ActiveUpdate after the grace period")


def _error(description: str, examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "model": ErrorBody,
        "description": description,
        "content": {"application/json": {"examples": examples}},
    }


_BAD_CODE = _error(
    "The activation code is malformed (typo), or not one we issued (reason `mac_failed`).",
    {k: EXAMPLES[k] for k in ("invalid_activation_code", "mac_failed")},
)
_REFUSED = _error(
    "The contract's end plus its grace period has passed (`license_expired`: renew, then "
    "check the status online or enter the new code), or the code was revoked.",
    {
        "license_expired": _license_expired_example(),
        "revoked_activation_code": EXAMPLES["revoked_activation_code"],
    },
)
_FILE_REFUSED = _error(
    "As for the manifest (`license_expired`, `revoked_activation_code`); and the Damage "
    "Cleanup template is sent only to a Damage Cleanup Services code whose license is live: "
    "another code of the contract (C/S Sec.'s) is refused with `product_not_licensed`.",
    {
        "license_expired": _license_expired_example(),
        "revoked_activation_code": EXAMPLES["revoked_activation_code"],
        "product_not_licensed": _example(not_licensed(Component.DAMAGE_CLEANUP_TEMPLATE)),
    },
)
_RATE_LIMITED = _error(
    "Too many requests from this address; see Retry-After.",
    {"rate_limited": EXAMPLES["rate_limited"]},
)
_UNAVAILABLE = _error(
    "The component store is temporarily unavailable; retry later.",
    {"service_unavailable": _example(ComponentFileUnavailable())},
)


@router.post(
    "/manifest",
    response_model=None,
    summary="The signed ActiveUpdate manifest",
    description=(
        "Checks the activation code (MAC, not revoked, contract found) and that the "
        "contract's current end plus the product's grace has not passed on the vendor's "
        "UTC date, then answers the Ed25519-signed manifest naming the current version, "
        "SHA-256 and size of all four components. Fetch each file from "
        "`GET /api/v1/activeupdate/files/{sha256}` and check it against the manifest."
    ),
    responses={
        200: {"model": ManifestResponse, "description": "The signed manifest envelope."},
        400: _BAD_CODE,
        403: _REFUSED,
        413: _error("The request body is too large.", {"r": EXAMPLES["request_too_large"]}),
        422: _error("The body is not the documented JSON.", {"v": EXAMPLES["validation_error"]}),
        429: _RATE_LIMITED,
        503: _UNAVAILABLE,
    },
    dependencies=[Depends(rate_limit("activeupdate_manifest", "activeupdate_rate_limit"))],
)
def post_manifest(
    body: ManifestRequest, vendor: Annotated[Vendor, Depends(get_vendor)]
) -> JSONResponse:
    # Served by `cssec.vendor_service.api.hot` (a plain route in front of this one, with a cache
    # fast path); this one documents it. As signed: never re-serialised.
    return JSONResponse(vendor.retrying(lambda: manifest_envelope(vendor, body)))


def manifest_envelope(vendor: Vendor, body: ManifestRequest) -> dict[str, Any]:
    """The entitlement check, then the signed manifest envelope (blocking: database). The
    manifest serial is re-read only when this worker has not confirmed it within the last
    second (`ManifestCache.fresh`)."""
    with vendor.session() as session:
        authorize_download(session, body.activation_code)
        store = vendor.activeupdate
        envelope = store.cache.fresh(
            vendor.signing_key.kid, vendor.clock.now(), store.published_stamp()
        )
        if envelope is not None:
            return envelope
        with read_transaction(session):
            return current_manifest(session)


@router.get(
    "/files/{sha256}",
    response_class=FileResponse,
    summary="One component file, by its SHA-256",
    description=(
        "The raw bytes of a published component version (`application/octet-stream`), "
        "after the same entitlement check as the manifest; the Damage Cleanup template "
        "only to a Damage Cleanup Services code of a live license (else 403 "
        "`product_not_licensed`). Content-addressed, so the "
        "answer never changes: `ETag` is the quoted SHA-256 and the response may be cached "
        "for a year; `If-None-Match` with that ETag answers 304."
    ),
    responses={
        200: {
            "description": "The file.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "headers": {
                "ETag": {"description": "The quoted SHA-256.", "schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string", "example": IMMUTABLE}},
            },
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        400: _BAD_CODE,
        401: _error(
            "No X-Cssec-Activation-Code header.",
            {"activation_code_required": _example(ActivationCodeRequired())},
        ),
        403: _FILE_REFUSED,
        404: _error(
            "No published component file has this SHA-256.", {"not_found": _example(NotFound())}
        ),
        422: _error("A header is too long.", {"v": EXAMPLES["validation_error"]}),
        429: _RATE_LIMITED,
        503: _UNAVAILABLE,
    },
    dependencies=[Depends(rate_limit("activeupdate_files", "activeupdate_rate_limit"))],
)
def get_file(
    sha256: str,
    request: Request,
    vendor: Annotated[Vendor, Depends(get_vendor)],
    x_cssec_activation_code: Annotated[
        str | None,
        Header(
            description="An activation code of the contract; for the Damage Cleanup "
            "template, its Damage Cleanup Services code.",
            max_length=100,
        ),
    ] = None,
    x_cssec_server_id: Annotated[
        str | None, Header(description="The C/S Sec. server's own id.", max_length=128)
    ] = None,
) -> Response:
    code = (x_cssec_activation_code or "").strip()
    if not code:
        raise ActivationCodeRequired()

    def work() -> tuple[Path, ComponentVersion]:
        with vendor.session() as session, read_transaction(session):
            standing = authorize_download(session, code)
            found = component_file(session, sha256)
            authorize_component(standing, found[1].component)
            return found

    path, version = vendor.retrying(work)
    headers = {"ETag": f'"{version.sha256}"', "Cache-Control": IMMUTABLE}
    if _etag_matches(request.headers.get("if-none-match"), version.sha256):
        return Response(status_code=304, headers=headers)
    filename = COMPONENT_FILENAMES[version.component]
    prefix = vendor.settings.accel_redirect_prefix
    if prefix:
        return accel_redirect(prefix, path, headers, filename=filename)
    return FileResponse(
        path, media_type="application/octet-stream", headers=headers, filename=filename
    )


def accel_redirect(
    prefix: str, path: Path, headers: dict[str, str], *, filename: str | None = None
) -> Response:
    """The license check passed: nginx sends the stored file itself (`X-Accel-Redirect` to
    its `internal` location `prefix`, aliased to data_dir/activeupdate/; deploy/nginx has
    it). The file's name in the store is its SHA-256, so nothing else can be asked for.
    nginx keeps Content-Disposition and Cache-Control from this answer; the location adds
    back the ETag (`$upstream_http_etag`)."""
    accel = {**headers, "X-Accel-Redirect": f"{prefix}{path.name}"}
    if filename is not None:
        accel["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(status_code=200, headers=accel, media_type="application/octet-stream")


def _etag_matches(if_none_match: str | None, sha256: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or f'"{sha256}"' in tags


__all__ = ["ManifestRequest", "ManifestResponse", "manifest_envelope", "router"]


class HealthRequest(BaseModel):
    activation_code: CodeText = Field(description="Any current activation code of the contract.")
    report: dict[str, Any] = Field(
        description="The statement `core.health_report` describes, signed with the server's "
        "identity key (an envelope: alg, kid, statement, sig)."
    )


class HealthTaken(BaseModel):
    taken: int = Field(description="Version entries taken (0: a replay, nothing changed).")


@router.post(
    "/health",
    response_model=HealthTaken,
    summary="A server's component health report, for staged rollouts",
    description=(
        "The report is a statement signed with the server's identity key "
        "(`core.health_report`): at most 16 KiB and 16 versions, at most one per server every "
        "`rollout_health_min_interval_seconds` (429 health_report_too_soon). The key is "
        "pinned per server id at its first report; another key for that id is refused "
        "(400 health_report_refused). A failing version's rollout is halted at once."
    ),
    responses={
        400: _error(
            "A malformed, oversized or wrongly signed report, or a bad code.",
            {
                "r": _example(HealthReportRefused(detail="signature: bad signature")),
            },
        ),
        403: _REFUSED,
        413: _error("The request body is too large.", {"r": EXAMPLES["request_too_large"]}),
        422: _error("The body is not the documented JSON.", {"v": EXAMPLES["validation_error"]}),
        429: _RATE_LIMITED,
    },
    dependencies=[Depends(rate_limit("activeupdate_health", "activeupdate_rate_limit"))],
)
def post_health(body: HealthRequest, vendor: Annotated[Vendor, Depends(get_vendor)]) -> HealthTaken:
    from cssec.vendor_service.activeupdate.health_intake import (  # noqa: PLC0415
        names_rolling,
        take_health_report,
    )
    from cssec.vendor_service.activeupdate.rollout_service import (  # noqa: PLC0415
        judge_rollouts,
    )

    if len(json.dumps(body.report)) > MAX_BODY_BYTES:
        raise HealthReportRefused(detail=f"more than {MAX_BODY_BYTES} bytes")

    def work() -> int:
        with vendor.session() as session:
            taken = take_health_report(session, body.activation_code, body.report)
            if taken and names_rolling(session, body.report):
                judge_rollouts(session)
            return taken

    return HealthTaken(taken=vendor.retrying(work))
