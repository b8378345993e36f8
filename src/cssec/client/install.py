"""Install: check the server's certificate, enroll, keep what it hands over, fetch the
components.

Installing is allowed in every license state (the FAQ keeps client installs working after
expiry); fetching components is not, so an install under an expired license succeeds and
says plainly that the components could not be fetched and why.

Over HTTPS the certificate is checked against the fingerprint (from the install token, or
`--fingerprint`) before anything is sent, and pinned (`cssec.client.pinning`).
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cssec.client.agent import AgentClient, Route
from cssec.client.errors import InvalidFingerprint, ServerError
from cssec.client.state import ClientConfig, ClientState
from cssec.client.updater import UpdateOutcome, update_components
from cssec.core.clock import Clock
from cssec.core.errors import CssecError, Phrase, ValidationFailed
from cssec.core.install_tokens import split_install_token
from cssec.core.signing import FingerprintFormatError, parse_fingerprint

if TYPE_CHECKING:
    import httpx

PROBE_TIMEOUT = 30.0


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
        raise ValidationFailed(
            detail=Phrase(
                f"--serverには http(s):// で始まるURLを指定してください（指定: {server_url!r}）",
                f"--server must be an http(s) URL, not {server_url!r}",
            )
        )
    return str(url).rstrip("/")


def agent_for(
    config: ClientConfig,
    *,
    lang: str,
    transport: httpx.BaseTransport | None = None,
    state: ClientState | None = None,
) -> AgentClient:
    """The agent client of an installed client: its token, its pinned certificate. With
    `state`, a certificate renewal the client follows is saved for the next run."""

    def repinned(der: bytes) -> None:
        if state is None:
            return
        import ssl  # noqa: PLC0415

        # Not under state.lock(): callers may hold it already (flock is per open file).
        # The write is one atomic rename of client.json.
        current = state.load_config()
        state.save_config(replace(current, server_cert=ssl.DER_cert_to_PEM_cert(der)))

    return AgentClient(
        config.server_url,
        token=config.client_token,
        lang=lang,
        transport=transport,
        pin=config.pinned_der(),
        insecure_http=config.insecure_http,
        on_repin=repinned,
    )


def _fingerprint(given: str | None, in_token: str | None) -> str | None:
    if given is None:
        return in_token
    try:
        fingerprint = parse_fingerprint(given)
    except FingerprintFormatError as exc:
        raise InvalidFingerprint(detail=Phrase(exc.ja, exc.en)) from None
    if in_token is not None and in_token != fingerprint:
        raise ValidationFailed(
            detail=Phrase(
                f"--fingerprint {fingerprint}がインストールトークンの指紋 {in_token}と異なります",
                f"--fingerprint {fingerprint} differs from the install token's {in_token}",
            )
        )
    return fingerprint


def _pin(
    server_url: str,
    fingerprint: str | None,
    *,
    insecure_http: bool,
    transport: httpx.BaseTransport | None,
) -> bytes | None:
    """The server's certificate (DER) once it matches `fingerprint`, checked before any
    byte of HTTP is sent; None over plain HTTP."""
    import httpx  # noqa: PLC0415

    from cssec.client import pinning  # noqa: PLC0415

    url = httpx.URL(server_url)
    if transport is not None:  # an injected transport (tests) is not the network
        return None
    if url.scheme != "https":
        pinning.check_transport(url, pinned=fingerprint is not None, insecure_http=insecure_http)
        return None
    expected = pinning.require_fingerprint(url, fingerprint)
    presented = pinning.probe_certificate(url, timeout=PROBE_TIMEOUT)
    return pinning.verify_presented(
        server_url, pinned=expected, presented=presented, timeout=PROBE_TIMEOUT
    )


def install_client(
    state: ClientState,
    *,
    server_url: str,
    route: Route,
    install_token: str | None,
    clock: Clock,
    lang: str,
    transport: httpx.BaseTransport | None = None,
    fingerprint: str | None = None,
    insecure_http: bool = False,
    hostname: str | None = None,
) -> InstallOutcome:
    """Check the certificate, enroll (raises the server's error when refused), save
    client.json, then update. `hostname`: the name the server lists this client by
    (default: the computer's host name)."""
    server_url = check_server_url(server_url)
    secret, in_token = split_install_token(install_token) if install_token else (None, None)
    expected = _fingerprint(fingerprint, in_token)
    pin = _pin(server_url, expected, insecure_http=insecure_http, transport=transport)
    hostname = hostname or socket.gethostname()
    with AgentClient(
        server_url, lang=lang, transport=transport, pin=pin, insecure_http=insecure_http
    ) as anonymous:
        enrollment = anonymous.enroll(
            route=route,
            install_token=secret,
            hostname=hostname,
            os_name=platform.platform(),
        )
        pin = anonymous.pin
    import ssl  # noqa: PLC0415

    config = ClientConfig(
        server_url=server_url,
        client_id=enrollment.client_id,
        client_token=enrollment.client_token,
        server_id=enrollment.server_id,
        vendor_keys=enrollment.vendor_keys,
        route=route,
        hostname=hostname,
        installed_at=clock.now(),
        server_cert=ssl.DER_cert_to_PEM_cert(pin) if pin is not None else None,
        insecure_http=insecure_http,
    )
    if not config.verifying_keys():
        raise ServerError(detail="the enrollment response holds no usable vendor key")
    with state.lock():
        state.save_config(config)
    with agent_for(config, lang=lang, transport=transport, state=state) as agent:
        try:
            outcome = update_components(state, agent, clock=clock, lang=lang)
        except CssecError as exc:
            return InstallOutcome(config, None, exc)
    return InstallOutcome(config, outcome, None)
