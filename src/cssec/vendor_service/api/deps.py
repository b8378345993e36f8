"""Dependencies shared by the vendor's API routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from cssec.vendor_service.runtime import Vendor
from cssec.web.http import client_ip


def get_vendor(request: Request) -> Vendor:
    vendor: Vendor = request.app.state.vendor
    return vendor


def rate_limit(bucket: str, setting: str) -> Callable[[Request], None]:
    """A dependency counting one request per client IP against the limit named `setting`."""

    def _hit(request: Request) -> None:
        vendor = get_vendor(request)
        limit: str = getattr(vendor.settings, setting)
        vendor.limiter.hit(limit, bucket, client_ip(request))

    return _hit
