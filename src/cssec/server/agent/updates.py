"""Component distribution to clients (the agent contract):

GET  /api/v1/agent/manifest                      → the vendor-signed manifest of the server's
     current components, exactly as the vendor signed it (gate: client_manual_update); after
     a rollback with the header `Cssec-Step-Back-From: <serial rolled back from>`
GET  /api/v1/agent/files/{component}/{sha256}    → the file's bytes (gate: distribute_<component>)
GET  /api/v1/agent/vendor-keys                   → the vendor keys the server trusts now
POST /api/v1/agent/update-result                 → 204, into the update log (client)

After the grace period the first two answer 403 `license_expired` with the policy's
message and remedy in the request's language; reporting is always accepted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from cssec.core.components import STEP_BACK_HEADER
from cssec.core.errors import NotFound
from cssec.core.policy import Component, Operation, distribution_operation, not_licensed
from cssec.server.agent.auth import ClientDep
from cssec.server.agent.routing import agent_router
from cssec.server.context import ServerContext
from cssec.server.licensing.state import check_license, cs_license_state
from cssec.server.logs.update_logs import UpdateResult, add_client_log
from cssec.server.models import Client
from cssec.server.updates.entitlement import separately_licensed
from cssec.server.updates.errors import ComponentsUnavailable
from cssec.server.updates.pilot import served_envelope
from cssec.server.updates.poller import ComponentPoller
from cssec.server.updates.service import read_installed
from cssec.server.updates.store import ComponentStore
from cssec.server.webmanager.templating import ctx_of

router = agent_router()

_REFUSED = {"description": "license_expired: the license and its grace period have ended"}
_UNAVAILABLE = {"description": "components_unavailable: the server holds no components yet"}


@router.get(
    "/manifest",
    summary="The signed manifest of the server's current components",
    responses={
        200: {"description": "The vendor's envelope {statement, alg, kid, signature}."},
        401: {"description": "not_authenticated"},
        403: _REFUSED,
        503: _UNAVAILABLE,
    },
)
def get_manifest(request: Request, client: ClientDep) -> JSONResponse:
    """Verify it with the vendor keys received at enrollment (core.components.verify_manifest)."""
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        check_license(session, Operation.CLIENT_MANUAL_UPDATE, now=ctx.clock.now(), tz=ctx.tz)
        installed = read_installed(session)
        served = served_envelope(session, client.id)  # the previous set while not a pilot
    if installed.envelope is None:
        raise ComponentsUnavailable()
    if served is not None or installed.held_serial is None:
        return JSONResponse(served or installed.envelope)
    # Rolled back here: a client still holding that set steps back to the one before it.
    return JSONResponse(installed.envelope, headers={STEP_BACK_HEADER: str(installed.held_serial)})


@router.get(
    "/vendor-keys",
    summary="The vendor public keys this server trusts",
    responses={
        200: {"description": '{"keys": [JWK, …], "endorsements": [signed envelope, …]}'},
        401: {"description": "not_authenticated"},
    },
)
def get_vendor_keys(request: Request, client: ClientDep) -> JSONResponse:
    """The keys this server trusts now, with the vendor's endorsements that vouch for the
    ones it learned by rotation. A client meeting a manifest signed with a kid it lacks
    fetches this and follows the endorsements from a key it already holds, exactly as the
    server did; it never takes the bare key list (a server, or a machine in the middle,
    could put any key there). Allowed in every license state (it is not an update)."""
    pinned = ctx_of(request).data.read_vendor_trust()
    keys = [key.to_jwk() for key in pinned.keys.values()]
    return JSONResponse({"keys": keys, "endorsements": pinned.endorsements})


@router.get(
    "/files/{component}/{sha256}",
    summary="One component file of the current (or previous) manifest",
    response_class=Response,
    responses={
        200: {
            "description": "The file.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        401: {"description": "not_authenticated"},
        403: _REFUSED,
        404: {"description": "not_found: no such component file on this server"},
        503: _UNAVAILABLE,
    },
)
def get_file(
    request: Request,
    client: ClientDep,
    component: Annotated[str, Path(max_length=64)],
    sha256: Annotated[str, Path(max_length=64)],
) -> Response:
    try:
        chosen = Component(component)
    except ValueError:
        raise NotFound() from None
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        check_license(session, distribution_operation(chosen), now=ctx.clock.now(), tz=ctx.tz)
        installed = read_installed(session)
    store = ComponentStore(ctx.data.root)
    for manifest in (installed.current, installed.previous):
        version = manifest.components.get(chosen) if manifest else None
        if version is None or version.sha256 != sha256:
            continue
        data = store.read(version)
        if data is None and separately_licensed(chosen):
            raise not_licensed(chosen)  # withheld (`updates.entitlement`): kept by clients
        if data is None:
            raise ComponentsUnavailable()
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"ETag": f'"{version.sha256}"'},
        )
    raise NotFound()


class UpdateResultIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    result: Literal["success", "failed", "refused", "up_to_date"]
    versions: dict[str, int] = Field(default_factory=dict)
    message: str = Field(default="", max_length=4000)
    message_code: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z][a-z_]*$",
        description="What happened, as a code the Web manager shows in the reader's language "
        "(components_updated, up_to_date, or the error's code); `message` is the fallback",
    )
    message_params: dict[str, int | None] | None = Field(
        default=None,
        max_length=8,
        description="components_updated: the version each changed component had before "
        "(null: newly installed)",
    )

    @field_validator("versions")
    @classmethod
    def _known_components(cls, value: dict[str, int]) -> dict[str, int]:
        known = {c.value for c in Component}
        if len(value) > len(known) or not set(value) <= known:
            raise ValueError("versions names unknown components")
        if any(v < 0 or v > 2**63 - 1 for v in value.values()):
            raise ValueError("versions must be non-negative integers")
        return value

    @field_validator("message_params")
    @classmethod
    def _params_name_components(
        cls, value: dict[str, int | None] | None
    ) -> dict[str, int | None] | None:
        if value is not None and not set(value) <= {c.value for c in Component}:
            raise ValueError("message_params names unknown components")
        return value


@router.post(
    "/update-result",
    status_code=204,
    summary="Report the outcome of a client update (update log, client)",
    responses={401: {"description": "not_authenticated"}},
)
async def post_update_result(request: Request, client: ClientDep, body: UpdateResultIn) -> Response:
    ctx = ctx_of(request)
    await run_in_threadpool(_log_update_result, ctx, client, body)
    # A pilot client's failure stops the set in pilot at once, under the poller's lock.
    poller: ComponentPoller = request.app.state.component_poller
    await poller.review_pilot()
    return Response(status_code=204)


def _log_update_result(ctx: ServerContext, client: Client, body: UpdateResultIn) -> None:
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=ctx.tz)  # commits the time it saw
    with ctx.sessionmaker() as session, session.begin():
        add_client_log(
            session,
            at=now,
            client_id=client.uid,
            hostname=client.hostname,
            result=UpdateResult(body.result),
            versions=body.versions,
            message=body.message,
            message_code=body.message_code,
            message_params=body.message_params,
            state=state,
        )
