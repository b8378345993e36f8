"""What clients report about their protection: Damage Cleanup results and whether they
applied the outbreak prevention policy; and `heartbeat_extras`, the part of the heartbeat
answer that carries the real-time switch, the outbreak policy and cleanup requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cssec.server.agent.auth import ClientDep
from cssec.server.agent.routing import agent_router
from cssec.server.licensing.state import cs_license_state
from cssec.server.outbreak.prevention import heartbeat_outbreak, record_applied
from cssec.server.protection.damage_cleanup import (
    CleanupResult,
    dcs_licensed,
    heartbeat_cleanups,
    record_cleanup_result,
)
from cssec.server.protection.realtime import heartbeat_realtime
from cssec.server.webmanager.templating import ctx_of

router = agent_router()
MAX_RESULTS = 1000


class CleanupResultItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str = Field(min_length=1, max_length=4096)
    threat: str = Field(min_length=1, max_length=255)
    action: Literal["quarantined", "deleted", "reported", "failed"]
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    quarantine_id: str | None = Field(default=None, max_length=128)
    detail: str = Field(default="", max_length=2000)


class CleanupResultIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    request_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    results: list[CleanupResultItem] = Field(max_length=MAX_RESULTS)


class OutbreakAppliedIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    policy_id: int = Field(ge=1, le=2**63 - 1)
    action: Literal["deploy", "release"]
    applied: bool
    detail: str = Field(default="", max_length=2000)


class OutbreakPolicyOut(BaseModel):
    id: int
    action: Literal["deploy", "release"]
    deny_write_shares: list[str]
    block_ports: list[int]
    deny_files: list[str]
    issued_at: str = Field(description="UTC, ISO 8601 with Z")


class CleanupRequestOut(BaseModel):
    id: int
    requested_at: str = Field(description="UTC, ISO 8601 with Z")
    paths: list[str] | None = Field(description="None: the client's last scan's detections")


@dataclass(frozen=True)
class HeartbeatExtras:
    realtime_scan: bool
    realtime_folders: list[str] | None
    outbreak_policy: dict[str, Any] | None
    cleanup_requests: list[dict[str, Any]]


def heartbeat_extras(
    session: Session,
    client_id: int,
    *,
    status: dict[str, Any],
    now: datetime,
    tz: tzinfo,
) -> HeartbeatExtras:
    """Everything the heartbeat tells the client to do; commits what it records."""
    state = cs_license_state(session, now=now, tz=tz)
    running = status.get("realtime_scan_running")
    realtime = heartbeat_realtime(
        session,
        client_id,
        state=state,
        running=running if isinstance(running, bool) else None,
        now=now,
    )
    cleanups = heartbeat_cleanups(
        session, client_id, state=state, dcs=dcs_licensed(session, now=now, tz=tz), now=now
    )
    outbreak = heartbeat_outbreak(session, client_id, state=state)
    session.commit()
    return HeartbeatExtras(
        realtime_scan=realtime.on,
        realtime_folders=realtime.folders,
        outbreak_policy=outbreak,
        cleanup_requests=cleanups,
    )


@router.post(
    "/cleanup-result",
    status_code=204,
    responses={
        401: {"description": "not_authenticated"},
        403: {"description": "dcs_not_licensed / license_expired"},
        404: {"description": "cleanup_request_not_found"},
    },
)
def cleanup_result(request: Request, client: ClientDep, body: CleanupResultIn) -> Response:
    """What a Damage Cleanup run did; lands in the virus log (scan type `cleanup`) with the
    action taken and finishes the request. Allowed in every license state; refused with
    `dcs_not_licensed` when the server has no Damage Cleanup Services license at all."""
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        record_cleanup_result(
            session,
            client,
            request_id=body.request_id,
            results=[
                CleanupResult(
                    path=r.path,
                    threat=r.threat,
                    action=r.action,
                    sha256=r.sha256,
                    quarantine_id=r.quarantine_id,
                    detail=r.detail,
                )
                for r in body.results
            ],
            now=ctx.clock.now(),
            tz=ctx.tz,
        )
    return Response(status_code=204)


@router.post(
    "/outbreak-policy/applied",
    status_code=204,
    responses={
        401: {"description": "not_authenticated"},
        409: {"description": "outbreak_policy_mismatch"},
    },
)
def outbreak_applied(request: Request, client: ClientDep, body: OutbreakAppliedIn) -> Response:
    """Whether the client applied (deploy) or lifted (release) its outbreak prevention policy."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        record_applied(
            session,
            client,
            policy_id=body.policy_id,
            action=body.action,
            applied=body.applied,
            detail=body.detail,
            state=cs_license_state(session, now=now, tz=ctx.tz),
            now=now,
        )
    return Response(status_code=204)
