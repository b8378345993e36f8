"""Client authentication for the agent API: `Authorization: Bearer <client_token>`.

`require_client` is the one dependency every agent route (enrollment aside) uses, so every
call lands in the connection status log (接続状態の確認ログ) in one place. A Web manager
session or HTTP Basic is no client credential here, and a client token is none for the
admin API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cssec.core.errors import NotAuthenticated
from cssec.server.clients.enrollment import authenticate_client
from cssec.server.logs.client_logs import add_connection
from cssec.server.models import Client
from cssec.server.webmanager.templating import ctx_of
from cssec.web.http import client_ip

AGENT_PREFIX = "/api/v1/agent"
bearer = HTTPBearer(auto_error=False, description="The client token received at enrollment")


def agent_action(request: Request) -> str:
    """The call's name for the log: the path's first segment after the agent prefix."""
    path = request.url.path
    rest = path[len(AGENT_PREFIX) :] if path.startswith(AGENT_PREFIX) else path
    return rest.strip("/").split("/", 1)[0] or "-"


def require_client(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Client:
    """The calling client (its contact recorded), or 401 not_authenticated."""
    ctx = ctx_of(request)
    ip = client_ip(request)
    action = agent_action(request)
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        found = authenticate_client(
            session, credentials.credentials[:512], ip=ip, action=action, now=now
        )
    if found is not None:
        client, entry_id = found
        request.state.connection_entry_id = entry_id
        return client
    # Counted before it is written, so a flood of bad tokens cannot flood the log.
    ctx.limiter.hit(ctx.settings.agent_auth_failure_limit, "agent-auth", ip)
    with ctx.sessionmaker() as session:
        add_connection(
            session, at=now, client=None, ip=ip, action=action, status="not_authenticated"
        )
        session.commit()
    raise NotAuthenticated()


ClientDep = Annotated[Client, Depends(require_client)]

__all__ = ["ClientDep", "agent_action", "require_client"]
