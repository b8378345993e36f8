"""The admin API under /api/v1/admin/: what the support console does, for billing systems
and scripts, with API tokens (`services.tokens`) instead of the console's cookie.

One use case, three doors: every route calls the same service functions as the console
and the CLI. Conventions (`conventions`): Bearer tokens scoped per resource and verb,
rate-limited per token; Idempotency-Key on every POST; cursor pagination on every list
(`cursor`, `limit`, `next_cursor`); ETag and If-Match on updates; every error the
app's `{code, message}` with a stable code.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from cssec.vendor_service.api.admin import audit, bulk, codes, contracts, customers, webhooks
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services.api_activity import ActivityLog
from cssec.vendor_service.services.bulk_jobs import BulkJobRunner

PREFIX = "/api/v1/admin"

TAGS = [
    {
        "name": "admin: contracts",
        "description": "Customers and contracts (scopes contracts:read, contracts:write).",
    },
    {
        "name": "admin: codes",
        "description": "Activation codes (codes:read, codes:write, codes:revoke).",
    },
    {"name": "admin: bulk", "description": "Bulk batches as jobs (bulk:write)."},
    {"name": "admin: usage", "description": "Seat usage reported by servers (usage:read)."},
    {
        "name": "admin: webhooks",
        "description": "Webhook endpoints and deliveries (webhooks:read, webhooks:write).",
    },
    {"name": "admin: audit", "description": "The audit log (audit:read)."},
]


def _operation_id(route: APIRoute) -> str:
    """admin_<function name>: stable ids the OpenAPI links (and client generators) use."""
    return f"admin_{route.name}"


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, generate_unique_id_function=_operation_id)
    for part in (contracts, customers, codes, bulk, audit, webhooks):
        router.include_router(part.router)
    return router


def install_admin_api(app: FastAPI, vendor: Vendor) -> None:
    """Mount the admin API, its bulk job runner (`app.state.bulk_jobs`) and the writer of
    its callers' activity (`app.state.api_activity`)."""
    app.state.bulk_jobs = jobs = BulkJobRunner(
        vendor.sessionmaker, vendor.settings.data_dir / "bulk"
    )
    app.state.api_activity = activity = ActivityLog(vendor.sessionmaker)
    vendor.closers.extend([jobs.close, activity.close])
    app.include_router(build_router())
    app.openapi_tags = [*(app.openapi_tags or []), *TAGS]


__all__ = ["PREFIX", "TAGS", "install_admin_api"]
