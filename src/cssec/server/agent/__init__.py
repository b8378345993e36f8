"""The agent API (`/api/v1/agent/...`) that C/S Sec. clients call: enrollment, reports and
heartbeat (agent.enroll, agent.reports), and component distribution (agent.updates).
Clients authenticate with `agent.auth.require_client`. Every agent module builds its router
with `agent.routing.agent_router()`, which documents the app's error answers in one place."""

from __future__ import annotations

from fastapi import APIRouter

from cssec.server.agent.enroll import router as enroll_router
from cssec.server.agent.protection import router as protection_router
from cssec.server.agent.reports import router as reports_router
from cssec.server.agent.tls import router as tls_router
from cssec.server.agent.tuf import router as tuf_router
from cssec.server.agent.updates import router as updates_router

routers: list[APIRouter] = [
    enroll_router,
    reports_router,
    updates_router,
    protection_router,
    tls_router,
    tuf_router,
]

__all__ = ["routers"]
