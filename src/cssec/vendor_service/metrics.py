"""The vendor service's metrics (`cssec.web.metrics` says who may read them and how the
workers' values are summed).

Besides requests and latencies by route template (`cssec_vendor_http_*`):

- `cssec_vendor_status_checks_total{verdict}`: status checks by what the server was told:
  activated, grace_period, expired (a signed statement), revoked (a signed refusal),
  invalid (a typo or a code we never issued), rate_limited, rejected (a malformed
  request) or error (a fault). The hot path (`api/hot.py`) puts the statement's state in
  the request scope (`VERDICT_KEY`); everything else is read from the status code.
- `cssec_vendor_registrations_total{result}`: online registrations.
- `cssec_vendor_activeupdate_downloads_total{result}`: component files sent, answered
  "not modified", refused, or failed.
- `cssec_vendor_outbox_depth`: messages waiting to be sent (webhooks, notices); whoever
  owns the outbox calls `VendorMetrics.set_outbox_depth` (several workers: the most
  recent value any of them set).

All of it is counted from the response in `HttpMetricsMiddleware`'s hook: the routes
themselves know nothing of metrics.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge
from starlette.types import Scope

from cssec.web.metrics import HttpMetricsMiddleware, Metrics

NAMESPACE = "cssec_vendor"
VERDICT_KEY = "cssec.verdict"
"""Request-scope key where the status handler leaves the state it signed."""

STATUS_ROUTE = "/api/v1/status"
MANIFEST_ROUTE = "/api/v1/activeupdate/manifest"
REGISTRATION_ROUTE = "/api/v1/registrations"
FILE_ROUTE = "/api/v1/activeupdate/files/{sha256}"
HOT_ROUTES = (STATUS_ROUTE, MANIFEST_ROUTE)
"""Answered in front of FastAPI (`api/hot.py`): their path is their template."""


def _by_status(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in {400, 404}:
        return "invalid"
    if status == 403:
        return "revoked"
    if status >= 500:
        return "error"
    return "rejected"


class VendorMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__(NAMESPACE)
        self.status_checks = Counter(
            "status_checks",
            "Status checks answered, by verdict.",
            ["verdict"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.registrations = Counter(
            "registrations",
            "Online registrations, by result.",
            ["result"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.downloads = Counter(
            "activeupdate_downloads",
            "ActiveUpdate component file requests, by result.",
            ["result"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "outbox_depth",
            "Messages (webhooks, notices) waiting to be sent.",
            namespace=NAMESPACE,
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self._children: dict[tuple[int, str], Any] = {}

    def set_outbox_depth(self, depth: int) -> None:
        """The hook for the outbox's owner."""
        self.outbox_depth.set(depth)

    def middleware(self, app: Any) -> HttpMetricsMiddleware:
        return HttpMetricsMiddleware(
            app, self, fixed_routes=HOT_ROUTES, on_response=self.on_response
        )

    def on_response(self, scope: Scope, route: str, status: int) -> None:
        if route == STATUS_ROUTE:
            verdict = scope.get(VERDICT_KEY) if status == 200 else None
            self._count(self.status_checks, str(verdict or _by_status(status)))
        elif route == REGISTRATION_ROUTE:
            result = "registered" if status == 200 else _by_status(status)
            self._count(self.registrations, result)
        elif route == FILE_ROUTE:
            if status == 200:
                result = "sent"
            elif status == 304:
                result = "not_modified"
            else:
                result = "error" if status >= 500 else "refused"
            self._count(self.downloads, result)

    def _count(self, family: Counter, label: str) -> None:
        key = (id(family), label)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(label)
        child.inc()


__all__ = ["HOT_ROUTES", "NAMESPACE", "VERDICT_KEY", "VendorMetrics"]
