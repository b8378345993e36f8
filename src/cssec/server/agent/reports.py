"""What clients send: the virus log and the heartbeat (connection status)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cssec.core.license import Product
from cssec.core.policy import Operation, decide
from cssec.server.agent.auth import ClientDep
from cssec.server.agent.protection import (
    CleanupRequestOut,
    OutbreakPolicyOut,
    heartbeat_extras,
)
from cssec.server.agent.routing import LICENSE_EXPIRED, agent_router, refusals
from cssec.server.clients.enrollment import record_heartbeat
from cssec.server.licensing.state import cs_license_state
from cssec.server.logs.client_logs import Detection, add_virus_entries
from cssec.server.models import LicenseSlot
from cssec.server.outbreak.notify import watch_virus_log
from cssec.server.updates.health import record_client_health
from cssec.server.webmanager.templating import ctx_of

router = agent_router()
MAX_DETECTIONS = 1000
SCAN_OPERATIONS = {"scan_now": Operation.SCAN_NOW, "realtime": Operation.REALTIME_SCAN}


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
    status: Annotated[str, Field(min_length=1, max_length=32)] | dict[str, Any] = Field(
        default="online",
        description="A short status word, or an object (agent_version, realtime_scan_running, "
        "outbreak_policy_id, outbreak_policy_applied, and optionally `state`: the word)",
    )

    def status_word(self) -> str:
        if isinstance(self.status, str):
            return self.status
        word = self.status.get("state")
        return word[:32] if isinstance(word, str) and word else "online"

    def status_fields(self) -> dict[str, Any]:
        return self.status if isinstance(self.status, dict) else {}


class LicenseOut(BaseModel):
    state: str = Field(description="activated | grace_period | expired | revoked (C/S Sec.)")
    expires_on: date | None = Field(default=None, description="The expiry the server shows")


class HeartbeatOut(BaseModel):
    realtime_scan: bool = Field(description="Whether the client should run real-time scan")
    realtime_folders: list[str] | None = Field(
        default=None, description="Folders to watch; null = the client's own configured folders"
    )
    outbreak_policy: OutbreakPolicyOut | None = Field(
        default=None, description="Outbreak prevention to deploy or release; null = nothing"
    )
    cleanup_requests: list[CleanupRequestOut] = Field(
        default_factory=list, description="Damage Cleanup Services: run a cleanup now"
    )
    license: LicenseOut | None = Field(
        default=None, description="The C/S Sec. license as the server sees it, for `status`"
    )


@router.post("/virus-log", status_code=204, responses=refusals({403: LICENSE_EXPIRED}))
def virus_log(
    request: Request, client: ClientDep, body: VirusLogIn, background: BackgroundTasks
) -> Response:
    """Append the client's detections to the virus log (allowed in every license state);
    the outbreak monitor then looks at the window ending now."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=ctx.tz)
        decide(Product.CS, state, SCAN_OPERATIONS[body.scan_type]).raise_if_refused()
        decide(Product.CS, state, Operation.LOG_APPEND_VIRUS).raise_if_refused()
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
        watch_virus_log(ctx, session, background, now=now, state=state)
    return Response(status_code=204)


@router.post("/heartbeat", response_model=HeartbeatOut, responses=refusals({403: LICENSE_EXPIRED}))
def heartbeat(request: Request, client: ClientDep, body: HeartbeatIn) -> HeartbeatOut:
    """Record that the client is up and what it says of itself; answer its settings."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=ctx.tz)
        decide(Product.CS, state, Operation.LOG_APPEND_CONNECTION_STATUS).raise_if_refused()
        record_heartbeat(
            session,
            client.id,
            status=body.status_word(),
            now=now,
            entry_id=getattr(request.state, "connection_entry_id", None),
        )
        extras = heartbeat_extras(
            session, client.id, status=body.status_fields(), now=now, tz=ctx.tz
        )
        record_client_health(
            session, client.id, body.status_fields().get("component_health"), now=now
        )  # for the vendor's staged rollouts (server.updates.health)
        slot = session.scalars(
            select(LicenseSlot).where(LicenseSlot.product == Product.CS.value)
        ).first()
    return HeartbeatOut.model_validate(
        {
            "realtime_scan": extras.realtime_scan,
            "realtime_folders": extras.realtime_folders,
            "outbreak_policy": extras.outbreak_policy,
            "cleanup_requests": extras.cleanup_requests,
            "license": {
                "state": state.value,
                "expires_on": slot.expires_on if slot is not None else None,
            },
        }
    )
