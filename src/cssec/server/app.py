"""The C/S Sec. server's one app factory: Web manager, JSON API and the license scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from cssec.core.clock import Clock, SystemClock, zone
from cssec.server.accounts.auth import purge_sessions
from cssec.server.agent import routers as agent_routers
from cssec.server.api.clients import router as clients_api
from cssec.server.api.licenses import router as licenses_api
from cssec.server.context import ServerContext
from cssec.server.licensing.clockguard import server_info
from cssec.server.licensing.errors import NotInstalled
from cssec.server.licensing.scheduler import LicenseScheduler
from cssec.server.logs.gate import TZ_INFO_KEY
from cssec.server.logs.retention import LogMaintenance
from cssec.server.models.accounts import LOGIN_THROTTLE
from cssec.server.monitoring import install_monitoring
from cssec.server.settings import ServerSettings
from cssec.server.storage.datadir import DataDir, open_database
from cssec.server.storage.keycheck import check_server_keys
from cssec.server.tls.vendor import VendorTls
from cssec.server.updates.poller import ComponentPoller
from cssec.server.webmanager import routers as webmanager_routers
from cssec.server.webmanager.error_pages import error_page
from cssec.server.webmanager.templating import LOCALE_DIR, build_templates
from cssec.server.webmanager.updates_pages import BUNDLE_UPLOAD_MAX, BUNDLE_URL
from cssec.web.apidocs import api_docs_router
from cssec.web.http import (
    BodySizeLimitMiddleware,
    LanguageMiddleware,
    SecurityHeadersMiddleware,
    install_error_handlers,
)
from cssec.web.i18n import Catalogs
from cssec.web.lockout_db import DbLoginThrottle
from cssec.web.ratelimit import RateLimiter

STATIC_DIR = Path(__file__).parent / "webmanager" / "static"
SESSION_COOKIE = "cssec_session"
SESSION_COOKIE_MAX_AGE = 12 * 3600
SERVICE = {"ja": "C/S Sec. サーバ", "en": "C/S Sec. server"}
"""How fault answers (503, 500) name this service."""
BASIC_CHALLENGE = 'Basic realm="cssec", charset="UTF-8"'
"""Sent with every 401 of the administrator JSON API (HTTP Basic as admin)."""


def create_app(
    settings: ServerSettings,
    *,
    clock: Clock | None = None,
    vendor_transport: httpx.AsyncBaseTransport | None = None,
    start_scheduler: bool | None = None,
) -> FastAPI:
    """`start_scheduler` defaults to `settings.online_checks`; tests pass False and call
    `app.state.scheduler.run_due_checks()` themselves."""
    data = DataDir(settings.data_dir)
    if not data.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    engine, sessions = open_database(data)
    try:
        check_server_keys(data, engine)  # refuse to start on missing or foreign key files
    except BaseException:
        engine.dispose()
        raise
    sessions.configure(info={TZ_INFO_KEY: zone(settings.timezone)})  # for logs.gate
    with sessions() as session:
        recorded_url = server_info(session).vendor_url
    ctx = ServerContext(
        settings=settings,
        data=data,
        engine=engine,
        sessionmaker=sessions,
        clock=clock or SystemClock(),
        tz=zone(settings.timezone),
        vendor_url=settings.vendor_url or recorded_url,
        vendor_transport=vendor_transport,
        vendor_tls=VendorTls.load(data),
        limiter=RateLimiter(settings.rate_limit_storage),
        unknown_names=DbLoginThrottle(engine, LOGIN_THROTTLE, scope="webmanager"),
    )
    scheduler = LicenseScheduler(
        ctx.license_env(), retry_base=timedelta(minutes=settings.check_retry_minutes)
    )
    run_scheduler = settings.online_checks if start_scheduler is None else start_scheduler
    poller = ComponentPoller(ctx.license_env())
    log_maintenance = LogMaintenance(sessions, ctx.clock, ctx.tz)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with sessions() as session:
            purge_sessions(
                session,
                now=ctx.clock.now(),
                idle=timedelta(minutes=settings.session_idle_minutes),
            )
        if run_scheduler:
            scheduler.start()
            poller.start()
            log_maintenance.start()
        try:
            yield
        finally:
            await log_maintenance.stop()
            await poller.stop()
            await scheduler.stop()
            engine.dispose()

    app = FastAPI(
        title="C/S Sec. server",
        version="1",
        description=(
            "License slots of a C/S Sec. server. Authenticate with HTTP Basic as `admin`, "
            "or with the Web manager session cookie (then send the session's CSRF token in "
            "`X-CSRF-Token` on POST)."
        ),
        lifespan=lifespan,
        docs_url=None,  # /api/docs: api_docs_router, Swagger UI from the package, no CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.server = ctx
    app.state.scheduler = scheduler
    app.state.component_poller = poller
    app.state.log_maintenance = log_maintenance
    app.state.templates = build_templates(Catalogs(LOCALE_DIR))
    install_error_handlers(
        app,
        service=SERVICE,
        pages={"/": error_page},  # HTML for browsers; /api/ always answers JSON
        challenges={"/api/v1/licenses": BASIC_CHALLENGE, "/api/v1/clients": BASIC_CHALLENGE},
    )

    for router in [licenses_api, clients_api, *agent_routers]:
        app.include_router(router)
    for router in [*webmanager_routers, api_docs_router(app.title, docs_url="/api/docs")]:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: headers and language wrap everything, sessions are innermost.
    app.add_middleware(
        SessionMiddleware,
        secret_key=data.read_session_secret(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_COOKIE_MAX_AGE,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=64 * 1024, larger={BUNDLE_URL: BUNDLE_UPLOAD_MAX}
    )
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    install_monitoring(app, ctx)  # /healthz, /readyz, /metrics; counts outermost

    @app.get("/api/v1/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
