"""The vendor's JSON API under /api/v1 (ActiveUpdate's router,
`cssec.vendor_service.activeupdate.api`, is mounted under /api/v1 by the app factory)."""

from __future__ import annotations

from fastapi import APIRouter

from cssec.vendor_service.api import keys, registrations, status

router = APIRouter(prefix="/api/v1")
router.include_router(registrations.router)
router.include_router(status.router)
router.include_router(keys.router)

__all__ = ["router"]
