"""The httpx transport that posts webhooks: to the address that was checked, and nowhere else.

httpx resolves a URL's host itself when it connects, so checking the host beforehand and
then calling httpx leaves a window: a DNS answer that changes in between (rebinding, a
TTL of zero) sends the post to whatever the second answer names. `PinnedTransport`
resolves once, through `TargetPolicy.check`, and rewrites the request's URL to the checked
address; the Host header (set from the original URL when the request was built) and the
TLS server name (httpx's documented `sni_hostname` extension: SNI and the certificate's
name check) stay the original host's. A refused target raises `TargetRefused` before any
socket is opened. No environment proxies (a proxy would resolve the name again), no
redirects (the client's), and no kept connections: a pooled connection is keyed by
address, and must not carry one host's TLS session to another host on the same address.
"""

from __future__ import annotations

import ssl

import httpx

from cssec.vendor_service.services.webhook_targets import TargetPolicy

DEFAULT_PORTS = {"https": 443, "http": 80}


class PinnedTransport(httpx.HTTPTransport):
    """Connects each request to the address `policy` checked for its host."""

    def __init__(self, policy: TargetPolicy, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(
            verify=verify, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)
        )
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.raw_host.decode("ascii")  # an internationalised name in its xn-- form
        try:
            addresses = self.policy.check(url.scheme, host, url.port or DEFAULT_PORTS[url.scheme])
        except KeyError:
            raise httpx.UnsupportedProtocol(f"{url.scheme}: not http(s)", request=request) from None
        except OSError as exc:  # the name does not resolve
            raise httpx.ConnectError(f"{host}: {exc}", request=request) from None
        address = str(addresses[0])
        if address != host:
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = url.copy_with(host=address)
        return super().handle_request(request)


def webhook_client(policy: TargetPolicy, *, timeout: float, user_agent: str) -> httpx.Client:
    """The client the sender posts with: pinned, no redirects, no environment proxies."""
    return httpx.Client(
        transport=PinnedTransport(policy),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": user_agent},
    )
