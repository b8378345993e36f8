"""The client's trust in its server: exactly one pinned certificate, never the network's word.

At install the client learns the server certificate's fingerprint out of band (inside the
install token the administrator copies, or `--fingerprint` for an AutoPcc install). Before
sending anything it opens a TLS connection, compares the certificate it is shown with that
fingerprint, and only then enrolls, over a connection that trusts exactly that certificate.
From then on every call trusts that one certificate (`pinned_context`).

When the server's certificate was renewed (`cssec server cert renew`), the certificate shown
no longer matches the pin. The client then fetches the server's public renewal statements
over a connection that trusts only the certificate being shown, sending no credentials,
and re-pins only when a chain of renewals signed by the old keys leads from its pin to that
certificate (`cssec.core.certs.follow_renewals`). Anything else is refused, naming both
fingerprints.

Plain HTTP is for loopback servers, or when the administrator says so (`--insecure-http`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
from typing import TYPE_CHECKING, Any

from cssec.client.errors import (
    InsecureServerUrl,
    ServerCertificateMismatch,
    ServerFingerprintRequired,
    ServerUnreachable,
)
from cssec.core.signing import FINGERPRINT_PREFIX

if TYPE_CHECKING:
    import httpx

RENEWALS_PATH = "/api/v1/agent/tls-renewals"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def fingerprint_of(der: bytes) -> str:
    """`sha256:<64 hex>` of a DER certificate (core.certs computes the same, without x509)."""
    return FINGERPRINT_PREFIX + hashlib.sha256(der).hexdigest()


def is_loopback_host(host: str) -> bool:
    name = host.strip("[]").rstrip(".").casefold()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: httpx.URL, *, pinned: bool, insecure_http: bool) -> None:
    """Refuse plain HTTP to another machine unless allowed, and never downgrade a pin."""
    if url.scheme == "https":
        return
    if pinned:
        raise InsecureServerUrl(server_url=str(url), reason="pinned")
    if not insecure_http and not is_loopback_host(url.host):
        raise InsecureServerUrl(server_url=str(url), reason="plain")


def pinned_context(der: bytes) -> ssl.SSLContext:
    """An SSL context that trusts exactly this certificate, and nothing else.

    Hostname checking is off on purpose: the pin is the whole certificate, so no other
    certificate for the same name (or any name) can pass, and the server's self-signed
    certificate stays valid when the client reaches it by an address its SANs lack.
    PARTIAL_CHAIN lets the pinned leaf itself be the trust anchor.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=der)
    return context


def probe_certificate(url: httpx.URL, *, timeout: float) -> bytes:
    """The certificate the server at `url` presents (DER), after a bare TLS handshake: no
    byte of HTTP is sent, so nothing leaves the client before the pin is checked."""
    host = url.host
    port = url.port or 443
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read the certificate; it is compared next
    server_name = None if _is_ip(host) else host
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        cause = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        raise ServerUnreachable(server_url=str(url), cause=cause) from None
    if not der:
        raise ServerUnreachable(server_url=str(url), cause="no certificate presented")
    return der


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def fetch_renewals(
    base_url: str, presented: bytes, *, timeout: float, transport: Any = None
) -> list[Any]:
    """The server's renewal statements, read over a connection that trusts only the
    certificate being evaluated; no token or other credential is sent."""
    import httpx  # noqa: PLC0415 - only a mismatch needs it here

    try:
        with httpx.Client(
            base_url=base_url,
            verify=pinned_context(presented),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        ) as http:
            response = http.get(RENEWALS_PATH)
        raw = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError):
        return []
    renewals = raw.get("renewals") if isinstance(raw, dict) else None
    return renewals if isinstance(renewals, list) else []


def verify_presented(
    base_url: str,
    *,
    pinned: str,
    presented: bytes,
    timeout: float,
    transport: Any = None,
) -> bytes:
    """`presented` when it is the pinned certificate or a renewal signed by the pinned one
    (and the renewals before it) leads to it; ServerCertificateMismatch naming both
    fingerprints otherwise."""
    actual = fingerprint_of(presented)
    if actual == pinned:
        return presented
    from cssec.core.certs import follow_renewals  # noqa: PLC0415 - x509 only on a mismatch

    renewals = fetch_renewals(base_url, presented, timeout=timeout, transport=transport)
    followed = follow_renewals(pinned, actual, renewals)
    if followed is None or fingerprint_of(followed) != actual:
        raise ServerCertificateMismatch(server_url=base_url, expected=pinned, actual=actual)
    return followed


def require_fingerprint(url: httpx.URL, fingerprint: str | None) -> str:
    if fingerprint is None:
        raise ServerFingerprintRequired(server_url=str(url))
    return fingerprint


def certificate_from_ssl_error(exc: BaseException) -> bool:
    """Whether an httpx error was the pinned certificate failing verification."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
