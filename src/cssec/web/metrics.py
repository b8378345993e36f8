"""Prometheus metrics for both web apps: HTTP requests and latencies by route template,
the app's own counters, and `GET /metrics` for whoever may read them.

**Route template, not raw path.** `HttpMetricsMiddleware` labels a request with the path
template FastAPI matched (`/api/v1/activeupdate/files/{sha256}`), never the raw path: a
caller cannot create a time series per URL it invents. Paths the middleware is told are
their own template (the vendor's hot paths, answered in front of FastAPI) keep their path;
anything unmatched is `<unmatched>`, anything else (a mount) `<other>`. The label children
are cached per (method, route, status), so a request costs two clock reads, one dict
lookup and two increments; the hot paths stay hot.

**Several workers.** `cssec vendor serve --workers N` (N > 1) runs `multiprocess_dir()`,
which creates an empty private directory, exports it as PROMETHEUS_MULTIPROC_DIR before
uvicorn spawns the workers (prometheus_client chooses its file-backed values when it is
imported), and removes it when serving ends. Each worker then writes its values to that
directory and `/metrics` in any worker sums them all (`MultiProcessCollector`). One
process: plain in-memory values.

**Who may read /metrics.** A peer on a loopback address whose request carries no
forwarding header (X-Forwarded-For, Forwarded, X-Real-IP: a reverse proxy on the same
host forwarding a remote caller), or anyone presenting `Authorization: Bearer <token>`
with the token set in `CSSEC_VENDOR_METRICS_TOKEN` / `CSSEC_SERVER_METRICS_TOKEN`.
Everyone else gets 403 with the documented error body. So a remote, unauthenticated
caller cannot enumerate routes, customers' license states or traffic.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cssec.core.errors import CssecError
from cssec.web.i18n import current_language

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"
OTHER = "<other>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})

ResponseHook = Callable[[Scope, str, int], None]
"""Called after each response with (scope, route template, status): the app's own counters."""


class MetricsForbidden(CssecError):
    code = "metrics_forbidden"
    status = 403
    message_ja = (
        "メトリクスはこのホスト (ループバック)から、またはメトリクス用トークン "
        "(Authorization: Bearer)を付けた場合にだけ読めます。"
        "{setting}を設定し、そのトークンを送ってください。"
    )
    message_en = (
        "Metrics can be read only from this host (loopback) or with the metrics token "
        "(Authorization: Bearer). Set {setting} and send that token."
    )


class Metrics:
    """One app's metric families, in a registry of its own (two apps in one process, as in
    the tests, never collide), plus the collectors read at scrape time."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.registry = CollectorRegistry(auto_describe=True)
        self.scrape_collectors: list[Collector] = []
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            namespace=namespace,
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            namespace=namespace,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def add_scrape_collector(self, collector: Collector) -> None:
        """A collector that reads its values when /metrics is scraped (e.g. the server's
        license slots from its database)."""
        self.registry.register(collector)
        self.scrape_collectors.append(collector)

    def render(self) -> bytes:
        """The text exposition: every worker's values in multi-process mode."""
        directory = os.environ.get(MULTIPROC_ENV)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=True)
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        for collector in self.scrape_collectors:
            registry.register(collector)
        return generate_latest(registry)


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by route template (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        *,
        fixed_routes: Collection[str] = (),
        on_response: ResponseHook | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.fixed_routes = frozenset(fixed_routes)
        self.on_response = on_response
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = self.route_of(scope)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.metrics.requests.labels(method, route, str(status))
        counter.inc()
        timer = self._timers.get(key[:2])
        if timer is None:
            timer = self._timers[key[:2]] = self.metrics.latency.labels(method, route)
        timer.observe(seconds)
        if self.on_response is not None:
            self.on_response(scope, route, status)

    def route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        template = getattr(route, "path", None)
        if isinstance(template, str):
            return full_template(scope, template)
        path = scope.get("path", "")
        if path in self.fixed_routes:
            return str(path)
        return OTHER if "endpoint" in scope else UNMATCHED


def full_template(scope: Scope, template: str) -> str:
    """The matched route's template from the app's root: FastAPI's nested routers hand the
    route's own template (`/files/{sha256}`), without the prefixes of the routers it was
    included through (`/api/v1/activeupdate`). The prefix is what precedes the route's
    part in the path; it is a literal the router matched, never caller-chosen text."""
    params = scope.get("path_params") or {}
    concrete = _PARAMETER.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)
    path = str(scope.get("path", ""))
    if concrete and path.endswith(concrete) and len(path) > len(concrete):
        return path[: len(path) - len(concrete)] + template
    return template


def may_read_metrics(scope: Scope, token: str | None) -> bool:
    """The rule of the module docstring: loopback without forwarding headers, or the token."""
    headers = scope.get("headers", [])
    if token:
        expected = f"Bearer {token}".encode()
        for name, value in headers:
            if name == b"authorization" and hmac.compare_digest(bytes(value), expected):
                return True
    client = scope.get("client")
    if not client:
        return False
    try:
        loopback = ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False
    return loopback and not any(name in FORWARDING_HEADERS for name, _ in headers)


def metrics_router(metrics: Metrics, *, token: Callable[[], str | None], setting: str) -> APIRouter:
    """`GET /metrics` (Prometheus text format) for the readers `may_read_metrics` allows;
    `setting` names the token's environment variable in the refusal."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def read_metrics(request: Request) -> Response:
        if not may_read_metrics(request.scope, token()):
            error = MetricsForbidden(setting=setting)
            return JSONResponse(error.to_dict(current_language.get()), status_code=error.status)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


@contextmanager
def multiprocess_dir(parent: Path | None = None) -> Iterator[Path]:
    """A fresh private directory exported as PROMETHEUS_MULTIPROC_DIR for the workers about
    to be spawned, removed (and the variable restored) afterwards. Stale files of an
    earlier run would add old counts, hence always a new one."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory = Path(tempfile.mkdtemp(prefix="cssec-metrics-", dir=parent))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


__all__ = [
    "MULTIPROC_ENV",
    "HttpMetricsMiddleware",
    "Metrics",
    "MetricsForbidden",
    "ResponseHook",
    "may_read_metrics",
    "metrics_router",
    "multiprocess_dir",
]
