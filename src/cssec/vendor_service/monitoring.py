"""Where the vendor service mounts `/healthz`, `/readyz` and `/metrics` (`cssec.web.health`,
`cssec.web.metrics`, `cssec.vendor_service.metrics`).

Ready means: the database answers a query, and the keyring's keys load and match what the
database references (`cssec.vendor_service.keycheck`).
"""

from __future__ import annotations

from fastapi import FastAPI

from cssec.vendor_service.keycheck import check_keys_match
from cssec.vendor_service.metrics import VendorMetrics
from cssec.vendor_service.runtime import Vendor
from cssec.web.health import ReadinessCheck, health_router
from cssec.web.metrics import metrics_router

TOKEN_SETTING = "CSSEC_VENDOR_METRICS_TOKEN"  # noqa: S105  (the variable's name, not a token)


def readiness_checks(vendor: Vendor) -> list[ReadinessCheck]:
    def database() -> None:
        with vendor.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def keys() -> None:
        check_keys_match(vendor.engine, vendor.keyring)

    return [ReadinessCheck("database", database), ReadinessCheck("keys", keys)]


def install_monitoring(app: FastAPI, vendor: Vendor) -> VendorMetrics:
    """Mount the three endpoints; the caller wraps its request path in
    `metrics.middleware(...)` (the vendor's hot paths bypass FastAPI's middleware)."""
    metrics = VendorMetrics()
    app.state.metrics = metrics
    app.include_router(health_router(readiness_checks(vendor)))

    def token() -> str | None:
        secret = vendor.settings.metrics_token
        return secret.get_secret_value() if secret is not None else None

    app.include_router(metrics_router(metrics, token=token, setting=TOKEN_SETTING))
    return metrics


__all__ = ["install_monitoring", "readiness_checks"]
