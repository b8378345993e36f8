"""The Web manager (Webマネージャ): server-rendered pages, Japanese first, English second.

`routers` lists every page router; a new page adds its router here and its menu entries to
`nav.NAV`.
"""

from __future__ import annotations

from fastapi import APIRouter

from cssec.server.webmanager.account_pages import router as account_router
from cssec.server.webmanager.auth_routes import router as auth_router
from cssec.server.webmanager.client_log_pages import router as client_logs_router
from cssec.server.webmanager.client_removal_pages import router as client_removal_router
from cssec.server.webmanager.clients_pages import router as clients_router
from cssec.server.webmanager.logmgmt_pages import router as logmgmt_router
from cssec.server.webmanager.logs import router as logs_router
from cssec.server.webmanager.mail_pages import router as mail_router
from cssec.server.webmanager.outbreak_monitor_pages import router as outbreak_monitor_router
from cssec.server.webmanager.outbreak_prevention_pages import router as outbreak_prevention_router
from cssec.server.webmanager.pages import router as pages_router
from cssec.server.webmanager.pilot_pages import router as pilot_router
from cssec.server.webmanager.protection_pages import router as protection_router
from cssec.server.webmanager.renewal_pages import router as renewal_router
from cssec.server.webmanager.updates_pages import router as updates_router

routers: list[APIRouter] = [
    auth_router,
    pages_router,
    renewal_router,
    logs_router,
    clients_router,
    client_logs_router,
    updates_router,
    pilot_router,
    logmgmt_router,
    outbreak_monitor_router,
    outbreak_prevention_router,
    protection_router,
    client_removal_router,
    mail_router,
    account_router,
]

__all__ = ["routers"]
