"""Install: enroll with the server, keep what it hands over, fetch the components.

Installing is allowed in every license state (the FAQ keeps client installs working after
expiry); fetching components is not, so an install under an expired license succeeds and
says plainly that the components could not be fetched and why.
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cssec.client.agent import AgentClient, Route
from cssec.client.errors import ServerError
from cssec.client.state import ClientConfig, ClientState
from cssec.client.updater import UpdateOutcome, update_components
from cssec.core.clock import Clock
from cssec.core.errors import CssecError, ValidationFailed

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class InstallOutcome:
    config: ClientConfig
    update: UpdateOutcome | None
    update_error: CssecError | None
    """Why the components could not be fetched (the client is installed regardless)."""


def check_server_url(server_url: str) -> str:
    import httpx  # noqa: PLC0415 - only install parses a server URL

    try:
        url = httpx.URL(server_url)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        raise ValidationFailed(detail=f"--server must be an http(s) URL, not {server_url!r}")
    return str(url).rstrip("/")


def agent_for(
    config: ClientConfig, *, lang: str, transport: httpx.BaseTransport | None = None
) -> AgentClient:
    return AgentClient(config.server_url, token=config.client_token, lang=lang, transport=transport)


def install_client(
    state: ClientState,
    *,
    server_url: str,
    route: Route,
    install_token: str | None,
    clock: Clock,
    lang: str,
    transport: httpx.BaseTransport | None = None,
) -> InstallOutcome:
    """Enroll (raises the server's error when refused), save client.json, then update."""
    server_url = check_server_url(server_url)
    hostname = socket.gethostname()
    with AgentClient(server_url, lang=lang, transport=transport) as anonymous:
        enrollment = anonymous.enroll(
            route=route,
            install_token=install_token,
            hostname=hostname,
            os_name=platform.platform(),
        )
    config = ClientConfig(
        server_url=server_url,
        client_id=enrollment.client_id,
        client_token=enrollment.client_token,
        server_id=enrollment.server_id,
        vendor_keys=enrollment.vendor_keys,
        route=route,
        hostname=hostname,
        installed_at=clock.now(),
    )
    if not config.verifying_keys():
        raise ServerError(detail="the enrollment response holds no usable vendor key")
    with state.lock():
        state.save_config(config)
    with agent_for(config, lang=lang, transport=transport) as agent:
        try:
            outcome = update_components(state, agent, clock=clock, lang=lang)
        except CssecError as exc:
            return InstallOutcome(config, None, exc)
    return InstallOutcome(config, outcome, None)
