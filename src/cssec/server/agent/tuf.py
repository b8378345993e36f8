"""The server's TUF mirror for its clients (`updates.tuf_mirror`):

GET /api/v1/agent/tuf/root-endorsement          the vendor key's endorsement of a root
GET /api/v1/agent/tuf/{N}.root.json             a root this server verified
GET /api/v1/agent/tuf/timestamp.json            the timestamp it last verified
GET /api/v1/agent/tuf/{V}.snapshot.json|{V}.targets.json   the ones it holds
GET /api/v1/agent/tuf/targets/{dir}/{sha256}.{name}         a target it verified
GET /api/v1/agent/tuf/targets/deltas/{component}/{sha256}.{N}-{M}   a pattern delta it
                                                 verified, while it distributes version M

Exactly the vendor's bytes: a client runs python-tuf against them with the vendor's root,
so this server can withhold an update but not forge, roll back or freeze one. It serves
the manifest target and component files of the components it distributes only: a newer
set it has not switched to, or rolled back from, is withheld (404). Metadata
and the manifest target follow the client_manual_update gate, a component file its
distribute_<component> gate (403 license_expired after grace, as the manifest and files
routes); 404 not_found for anything this server does not hold (a server without TUF yet:
the client keeps to the signed manifest).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from cssec.core.delta import DeltaError, delta_hashes
from cssec.core.errors import NotFound
from cssec.core.policy import Component, Operation, distribution_operation, not_licensed
from cssec.server.agent.auth import ClientDep
from cssec.server.agent.routing import LICENSE_EXPIRED, agent_router
from cssec.server.licensing.state import license_decision
from cssec.server.updates import tuf_mirror
from cssec.server.updates.entitlement import separately_licensed
from cssec.server.updates.pilot import served_serial
from cssec.server.updates.service import Installed, read_installed
from cssec.server.updates.store import ComponentStore
from cssec.server.webmanager.templating import ctx_of

router = agent_router()

NO_STORE = {"Cache-Control": "no-store"}
_NOT_HELD = {"description": "not_found: this server does not hold that file"}


def _gate(request: Request, operation: Operation) -> None:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        decision = license_decision(session, operation, now=ctx.clock.now(), tz=ctx.tz)
    decision.raise_if_refused()


def _installed(request: Request) -> Installed:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        return read_installed(session)


def _component_file(request: Request, component: Component, sha256: str) -> bytes | None:
    """The file of `component` with this SHA-256 in the server's current (or previous)
    components: what it distributes, so a rollback here withholds the newer file."""
    installed = _installed(request)
    store = ComponentStore(ctx_of(request).data.root)
    for manifest in (installed.current, installed.previous):
        version = manifest.components.get(component) if manifest else None
        if version is not None and version.sha256 == sha256:
            data = store.read(version)
            if data is None and separately_licensed(component):
                raise not_licensed(component)  # withheld (`updates.entitlement`): kept by clients
            return data
    return None


def _delta_file(request: Request, component: Component, sha256: str, to: int) -> bytes | None:
    """A pattern delta this server verified and rebuilt from, when the version it leads to
    is one it distributes (current or previous set): a withheld version stays withheld."""
    data = tuf_mirror.delta_target(ctx_of(request).data.root, sha256)
    if data is None:
        return None
    try:
        _source, target = delta_hashes(data)
    except DeltaError:
        return None
    installed = _installed(request)
    for manifest in (installed.current, installed.previous):
        version = manifest.components.get(component) if manifest else None
        if version is not None and (version.version, version.sha256) == (to, target):
            return data
    return None


def _manifest_file(request: Request, sha256: str, client_id: int) -> bytes | None:
    """The manifest target this server verified, unless it is newer than the components
    it distributes (not switched to yet, or rolled back here: withheld)."""
    data = tuf_mirror.manifest_target(ctx_of(request).data.root, sha256)
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        current = read_installed(session).current
        pilot_held = served_serial(session, client_id)  # not a pilot: the previous set
    if data is None or current is None:
        return None
    try:
        serial = json.loads(data)["statement"]["serial"]
    except (ValueError, KeyError, TypeError):
        return None
    # Only the set it distributes: a newer one is withheld, and so is an older one while it
    # holds a staged rollout's candidate set (its clients then take that set from it).
    wanted = current.serial if pilot_held is None else pilot_held
    return data if isinstance(serial, int) and serial == wanted else None


@router.get(
    "/tuf/targets/{path:path}",
    summary="A TUF target file this server verified (consistent snapshot: by SHA-256)",
    response_class=Response,
    responses={
        200: {
            "description": "The file, as the vendor published it.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        403: {"description": LICENSE_EXPIRED},
        404: _NOT_HELD,
    },
)
def get_tuf_target(
    request: Request, client: ClientDep, path: Annotated[str, Path(max_length=200)]
) -> Response:
    delta = tuf_mirror.parse_delta_target(path)
    if delta is not None:
        name, sha256, _held, to = delta
        try:
            component = Component(name)
        except ValueError:
            raise NotFound() from None
        _gate(request, distribution_operation(component))
        data = _delta_file(request, component, sha256, to)
        if data is None:
            raise NotFound()
        return Response(data, media_type="application/octet-stream")
    parsed = tuf_mirror.parse_target(path)
    if parsed is None:
        raise NotFound()
    directory, sha256 = parsed
    if directory == "activeupdate":
        _gate(request, Operation.CLIENT_MANUAL_UPDATE)
        data = _manifest_file(request, sha256, client.id)
    else:
        try:
            component = Component(directory)
        except ValueError:
            raise NotFound() from None
        _gate(request, distribution_operation(component))
        data = _component_file(request, component, sha256)
    if data is None:
        raise NotFound()
    return Response(data, media_type="application/octet-stream")


@router.get(
    "/tuf/{name}",
    summary="TUF metadata as this server verified it (the vendor's bytes)",
    response_class=Response,
    responses={
        200: {"description": "The metadata file.", "content": {"application/json": {}}},
        403: {"description": LICENSE_EXPIRED},
        404: _NOT_HELD,
    },
)
def get_tuf_metadata(
    request: Request, client: ClientDep, name: Annotated[str, Path(max_length=64)]
) -> Response:
    _gate(request, Operation.CLIENT_MANUAL_UPDATE)
    data = tuf_mirror.metadata(ctx_of(request).data.root, name)
    if data is None:
        raise NotFound()
    return Response(data, media_type="application/json", headers=NO_STORE)


__all__ = ["router"]
