"""What clients send: the virus log and the heartbeat (connection status)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cssec.core.policy import Operation, decide
from cssec.server.agent.auth import ClientDep
from cssec.server.client_logs import Detection, add_virus_entries
from cssec.server.clients import cs_license_state, record_heartbeat
from cssec.server.webmanager.templating import ctx_of

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])
MAX_DETECTIONS = 1000


class DetectionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str = Field(min_length=1, max_length=4096)
    threat: str = Field(min_length=1, max_length=255)
    action: str = Field(default="report", max_length=16)
    component: str | None = Field(default=None, max_length=32)
    component_version: int | None = Field(default=None, ge=0, le=2**63 - 1)
    rule: str | None = Field(default=None, max_length=255)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class VirusLogIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scan_type: Literal["scan_now", "realtime"]
    detections: list[DetectionIn] = Field(max_length=MAX_DETECTIONS)


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str = Field(default="online", min_length=1, max_length=32)


class HeartbeatOut(BaseModel):
    realtime_scan: bool = Field(description="Whether the client should run real-time scan")
    outbreak_policy: None = Field(default=None, description="Outbreak prevention: none yet")


@router.post("/virus-log", status_code=204, responses={401: {"description": "not_authenticated"}})
def virus_log(request: Request, client: ClientDep, body: VirusLogIn) -> Response:
    """Append the client's detections to the virus log (allowed in every license state)."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=ctx.tz)
        decide(state, Operation.LOG_APPEND_VIRUS).raise_if_refused()
        add_virus_entries(
            session,
            client,
            scan_type=body.scan_type,
            detections=[
                Detection(
                    path=d.path,
                    threat=d.threat,
                    action=d.action,
                    component=d.component,
                    component_version=d.component_version,
                    rule=d.rule,
                    sha256=d.sha256.lower() if d.sha256 else None,
                )
                for d in body.detections
            ],
            at=now,
        )
    return Response(status_code=204)


@router.post(
    "/heartbeat", response_model=HeartbeatOut, responses={401: {"description": "not_authenticated"}}
)
def heartbeat(request: Request, client: ClientDep, body: HeartbeatIn) -> HeartbeatOut:
    """Record that the client is up and what it says of itself; answer its settings."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=ctx.tz)
        decide(state, Operation.LOG_APPEND_CONNECTION_STATUS).raise_if_refused()
        record_heartbeat(
            session,
            client.id,
            status=body.status,
            now=now,
            entry_id=getattr(request.state, "connection_entry_id", None),
        )
    return HeartbeatOut(realtime_scan=True, outbreak_policy=None)
