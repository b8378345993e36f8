"""How every agent route is declared and documented: `agent_router()`.

Its routes (`AgentRoute`) document the errors the app really answers, in the app's shape
`{code, message, ...fields}` (web.http.install_error_handlers), not FastAPI's default 422
(`detail` as an array), which the app never sends:

- every route: 413 request_too_large (the body limit), 429 rate_limited;
- a route that takes input (body, path, query or header parameters): 422 validation_error
  (`detail` is a string), and 400 bad_request (a body that cannot be read, e.g. not UTF-8);
- a route that needs a client (`require_client`): 401 not_authenticated.

A route adds its own refusals with `refusals({403: "license_expired", ...})`. A new agent
module gets all this by building its router with `agent_router()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from cssec.server.agent.auth import AGENT_PREFIX, require_client

Responses = dict[int | str, dict[str, Any]]


class AgentError(BaseModel):
    """Every non-2xx answer of the agent API: a stable code, a message in the request's
    language, and the error's fields (e.g. `detail`, `retry_after`)."""

    model_config = ConfigDict(extra="allow", title="AgentError")
    code: str = Field(examples=["validation_error"])
    message: str


def refusals(described: dict[int, str]) -> Responses:
    """`responses=` entries for a route's own refusals: {status: "code / code: when"}."""
    return {
        status: {"model": AgentError, "description": text} for status, text in described.items()
    }


COMMON_ERRORS: Responses = refusals(
    {
        413: "request_too_large: the body is over the server's limit",
        429: "rate_limited: too many requests (or failed client tokens) from this address; "
        "see Retry-After",
    }
)
INPUT_ERRORS: Responses = refusals(
    {
        400: "bad_request: the body cannot be read (e.g. it is not UTF-8)",
        422: "validation_error: the request is not the documented one (`detail` says what)",
    }
)
LICENSE_EXPIRED = (
    "license_expired: refused by the license policy (the license and its grace "
    "period have ended); `message` says what to do"
)
CLIENT_ERRORS: Responses = refusals(
    {401: "not_authenticated: no client token, or one this server does not know"}
)


def _calls(dependant: Dependant, wanted: Callable[..., Any]) -> bool:
    return any(dep.call is wanted or _calls(dep, wanted) for dep in dependant.dependencies)


def _takes_input(dependant: Dependant) -> bool:
    return any(
        (
            dependant.path_params,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.body_params,
        )
    ) or any(_takes_input(dep) for dep in dependant.dependencies)


def _documented(responses: Responses) -> Responses:
    """An error a route describes in words only gets the error body's schema too."""
    return {
        status: (
            {**entry, "model": AgentError}
            if str(status)[:1] in "45" and "model" not in entry and "content" not in entry
            else entry
        )
        for status, entry in responses.items()
    }


class AgentRoute(APIRoute):
    """An agent route whose OpenAPI lists the errors above (its own `responses` win)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # What the route takes and needs is known once FastAPI has read its signature and
        # dependencies; the error responses must be known before the route is built (their
        # schemas are made then): so a plain route is read first.
        probe = APIRoute(path, endpoint, dependencies=kwargs.get("dependencies"))
        common: Responses = dict(COMMON_ERRORS)
        if _takes_input(probe.dependant):
            common.update(INPUT_ERRORS)
        if _calls(probe.dependant, require_client):
            common.update(CLIENT_ERRORS)
        kwargs["responses"] = _documented({**common, **(kwargs.get("responses") or {})})
        super().__init__(path, endpoint, **kwargs)


def agent_router() -> APIRouter:
    """The router of one agent module: under /api/v1/agent, tagged, errors documented."""
    return APIRouter(prefix=AGENT_PREFIX, tags=["agent"], route_class=AgentRoute)


__all__ = ["LICENSE_EXPIRED", "AgentError", "AgentRoute", "agent_router", "refusals"]
