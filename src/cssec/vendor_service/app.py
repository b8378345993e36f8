"""The vendor service's one app factory."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import psycopg
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from cssec.core.clock import Clock
from cssec.vendor_service.feedwatch import FeedWatch
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.scheduler import BackgroundJobs
from cssec.vendor_service.settings import VendorSettings
from cssec.web.apidocs import install_api_docs
from cssec.web.http import (
    BodySizeLimitMiddleware,
    LanguageMiddleware,
    SecurityHeadersMiddleware,
    install_error_handlers,
)

log = logging.getLogger(__name__)

SERVICE = {"ja": "ライセンスサービス", "en": "license service"}
"""How fault answers (503, 500) name this service."""

TAGS = [
    {"name": "registration", "description": "Online registration with a registration key."},
    {"name": "status", "description": "Signed status statements for activation codes."},
    {"name": "keys", "description": "The public keys that verify status statements."},
    {
        "name": "activeupdate",
        "description": "The signed component manifest and the component files (the "
        "activation code authorizes; refused once the contract's end plus grace has passed).",
    },
    {"name": "health", "description": "Liveness (/healthz) and readiness (/readyz)."},
]


def create_app(settings: VendorSettings, *, clock: Clock | None = None) -> FastAPI:
    """The vendor service: migrates its database, opens its keys, mounts the API.

    `app.state.vendor` is the `cssec.vendor_service.runtime.Vendor` (sessionmaker, clock,
    keyring, signing_key, limiter, settings, session_secret). Closing: the lifespan
    disposes the engine; callers that never run the lifespan (ASGITransport tests) call
    `app.state.vendor.close()`.
    """
    vendor = open_vendor(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in this pool. A few threads, not anyio's 40: the hot paths are
        # short CPU work with many GIL releases (every database call), and dozens of
        # threads convoying on the GIL and on SQLite's write lock halve the throughput
        # (docs/performance.md). Requests beyond it wait in the event loop.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        reader = _app.state.hot_reader
        await reader.open()
        feed = _feed_watch(vendor)
        if feed is not None:
            await feed.start()
        # What start-up built (FastAPI, SQLAlchemy, pydantic, the catalogs: hundreds of
        # thousands of objects) goes to the permanent generation, so the collector's full
        # passes stop walking it on every request burst: status p99 36-46 -> 20-21 ms on
        # SQLite, 65 -> 38 ms on PostgreSQL, same throughput (docs/performance.md).
        gc.collect()
        gc.freeze()
        # Notices due and outbox deliveries (cssec.vendor_service.scheduler), at once and
        # then periodically; pending messages of a previous run are picked up here.
        jobs = BackgroundJobs(vendor) if settings.background_jobs else None
        _app.state.background_jobs = jobs
        if jobs is not None:
            jobs.start()
        try:
            yield
        finally:
            if jobs is not None:
                await anyio.to_thread.run_sync(jobs.stop)
            if feed is not None:
                await feed.stop()
            await reader.close()
            vendor.close()

    app = VendorApp(
        title="cssec vendor service",
        version="1",
        summary="Registration, signed status and public keys for C/S Sec. licenses.",
        description=(
            'Every error is `{"code", "message", ...fields}` with the message in the '
            "request's language (`Accept-Language: ja` (default) or `en`)."
        ),
        openapi_tags=TAGS,
        lifespan=lifespan,
        # No OpenTelemetry here: skips FastAPI's per-request check for a configured provider.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # install_api_docs: Swagger UI from the package, not a CDN
        redoc_url=None,
    )
    install_api_docs(app, docs_url="/docs")
    app.state.vendor = vendor
    from cssec.vendor_service.console import PREFIX, error_page  # noqa: PLC0415
    from cssec.vendor_service.portal import PREFIX as PORTAL  # noqa: PLC0415
    from cssec.vendor_service.portal import error_page as portal_page  # noqa: PLC0415

    # The hot paths' reads (`cssec.vendor_service.hotdb`) fail with psycopg's own errors.
    install_error_handlers(
        app,
        service=SERVICE,
        pages={PREFIX: error_page, PORTAL: portal_page},
        unavailable=(psycopg.OperationalError,),
    )
    _include_routers(app, vendor)
    from cssec.vendor_service.monitoring import install_monitoring  # noqa: PLC0415

    metrics = install_monitoring(app, vendor)  # /healthz, /readyz, /metrics
    from cssec.vendor_service.api.hot import hot_routes  # noqa: PLC0415

    fastapi_stack = functools.partial(FastAPI.__call__, app)
    dispatch = hot_routes(app, vendor, fallback=fastapi_stack)
    # Around every request, hot or not; language outermost so even a 413 speaks it.
    app.front = LanguageMiddleware(
        SecurityHeadersMiddleware(
            metrics.middleware(BodySizeLimitMiddleware(dispatch, max_bytes=settings.max_body_bytes))
        )
    )
    return app


class VendorApp(FastAPI):
    """The vendor's FastAPI app, with every HTTP request going through `front` first: the
    shared middleware, then `cssec.vendor_service.api.hot.HotRoutes`, which answers the status
    check and the ActiveUpdate manifest itself and hands everything else to FastAPI."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.front(scope, receive, send)


def _feed_watch(vendor: Vendor) -> FeedWatch | None:
    """PostgreSQL: this worker's LISTEN connection for publishes (`feedwatch`)."""
    if vendor.engine.dialect.name != "postgresql" or not vendor.settings.feed_listen:
        return None
    url = vendor.engine.url.render_as_string(hide_password=False)
    return FeedWatch(url, vendor.activeupdate.feed)


def create_app_from_environment() -> FastAPI:
    """`create_app` with settings from CSSEC_VENDOR_* only: the factory each worker process
    of `cssec vendor serve --workers N` (and the benches) imports."""
    return create_app(VendorSettings())


def _include_routers(app: FastAPI, vendor: Vendor) -> None:
    """Where each part of the service is mounted; the console and ActiveUpdate add theirs here."""
    from cssec.vendor_service.api import router as api_router  # noqa: PLC0415

    app.include_router(api_router)
    from cssec.vendor_service.api.admin import install_admin_api  # noqa: PLC0415

    install_admin_api(app, vendor)
    from cssec.vendor_service.activeupdate.api import router as activeupdate_router  # noqa: PLC0415

    app.include_router(activeupdate_router, prefix="/api/v1")
    from cssec.vendor_service.activeupdate.tuf_api import router as tuf_router  # noqa: PLC0415

    app.include_router(tuf_router, prefix="/api/v1")
    from cssec.vendor_service.console import install_console  # noqa: PLC0415

    install_console(app, vendor)
    from cssec.vendor_service.portal import install_portal  # noqa: PLC0415

    install_portal(app, vendor)
    from cssec.vendor_service.home import router as home_router  # noqa: PLC0415

    app.include_router(home_router)
