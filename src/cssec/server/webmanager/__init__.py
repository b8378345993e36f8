"""The Web manager (Webマネージャ): server-rendered pages, Japanese first, English second.

`routers` lists every page router; later pages add theirs here and their menu entries to
`nav.NAV`.
"""

from __future__ import annotations

from fastapi import APIRouter

from cssec.server.webmanager.auth_routes import router as auth_router
from cssec.server.webmanager.logs import router as logs_router
from cssec.server.webmanager.pages import router as pages_router

routers: list[APIRouter] = [auth_router, pages_router, logs_router]

__all__ = ["routers"]
