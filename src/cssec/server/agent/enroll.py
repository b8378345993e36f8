"""POST /api/v1/agent/enroll: a client installs by one of the three routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import BackgroundTasks, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cssec.core.errors import CssecError
from cssec.core.names import HOST_NAME, check_name
from cssec.server.agent.routing import agent_router
from cssec.server.clients.enrollment import EnrollRequest, Route, enroll_client
from cssec.server.clients.seats import refresh_seat_state
from cssec.server.licensing.clockguard import server_info
from cssec.server.logs.client_logs import add_connection
from cssec.server.notices.service import deliver_pending
from cssec.server.webmanager.templating import ctx_of
from cssec.web.http import client_ip

router = agent_router()


def _host_name(value: str) -> str:
    """InvalidName (a ValueError) names the field in ja and en; the error mapping answers it
    with 422 invalid_name before anything, the connection log included, stores the name."""
    return check_name(value, HOST_NAME)


class EnrollIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    route: Literal["web", "remote", "autopcc"]
    install_token: str | None = Field(default=None, max_length=200)
    hostname: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_host_name)]
    os: str = Field(default="", max_length=255)
    agent_version: str = Field(default="", max_length=64)


class EnrollOut(BaseModel):
    client_id: str
    client_token: str = Field(description="Send as `Authorization: Bearer <client_token>`")
    server_id: str
    vendor_keys: dict[str, Any] = Field(description='{"keys": [JWK, ...]}: to verify manifests')


@router.post(
    "/enroll",
    response_model=EnrollOut,
    responses={
        403: {
            "description": "invalid_install_token / install_token_expired / "
            "install_token_wrong_host / autopcc_not_allowed"
        },
        409: {"description": "vendor_keys_not_pinned (offline, keys not imported yet)"},
        422: {"description": "invalid_name (the host name) / validation_error"},
        429: {"description": "rate_limited"},
    },
)
def enroll(request: Request, body: EnrollIn, background: BackgroundTasks) -> EnrollOut:
    """Install a client. `web` and `remote` need the one-time token from the Web manager;
    `autopcc` needs none and is accepted from the server's own networks only. Allowed in
    every license state and whatever the seat count (a count over the seats is a banner,
    an event and a mail to the administrator, never a refusal)."""
    ctx = ctx_of(request)
    ip = client_ip(request)
    ctx.limiter.hit(ctx.settings.enroll_rate_limit, "agent-enroll", ip)
    now = ctx.clock.now()
    wanted = EnrollRequest(
        route=Route(body.route),
        install_token=body.install_token,
        hostname=body.hostname.strip() or body.hostname,
        os=body.os,
        agent_version=body.agent_version,
        ip=ip,
    )
    with ctx.sessionmaker() as session:
        try:
            enrolled = enroll_client(
                session,
                wanted,
                now=now,
                tz=ctx.tz,
                autopcc_networks=ctx.settings.autopcc_networks,
                vendor_keys_pinned=bool(ctx.data.read_vendor_keys()),
            )
        except CssecError as exc:
            session.rollback()
            add_connection(
                session,
                at=now,
                client=None,
                hostname=wanted.hostname,
                ip=ip,
                action="enroll",
                status=exc.code,
            )
            session.commit()
            raise
        server_id = server_info(session).server_id
        if refresh_seat_state(session, now=now, window_days=ctx.settings.seat_window_days):
            session.commit()
            background.add_task(deliver_pending, ctx.sessionmaker, ctx.clock)
    keys = [key.to_jwk() for key in ctx.data.read_vendor_keys().values()]
    return EnrollOut(
        client_id=enrolled.client.uid,
        client_token=enrolled.token,
        server_id=server_id,
        vendor_keys={"keys": keys},
    )
