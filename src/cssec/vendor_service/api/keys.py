"""GET /api/v1/keys (the vendor's public keys, JWKS-style) and GET /api/v1/health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cssec.vendor_service.api.deps import get_vendor
from cssec.vendor_service.api.schemas import Health, KeySet
from cssec.vendor_service.runtime import Vendor

router = APIRouter(tags=["keys"])


@router.get(
    "/keys",
    response_model=KeySet,
    summary="The vendor's status-signing public keys",
    description=(
        "Every signing key still trusted, the current one first (RFC 8037 JWKs). Servers "
        "fetch it at install and pin it; `cssec vendor keys public` prints the same set."
    ),
)
def get_keys(vendor: Annotated[Vendor, Depends(get_vendor)]) -> dict[str, Any]:
    return vendor.keyring.jwks()


@router.get("/health", response_model=Health, summary="Liveness", tags=["health"])
def get_health() -> Health:
    return Health(status="ok")
