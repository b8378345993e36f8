"""Webhook targets (issue 22, item 2): https to public hosts only, unless the operator
names the target; checked when an endpoint is added and at every delivery, where a refused
target is logged "refused by policy" without a connection; the post goes to the address
that was checked, so a DNS answer that changes in between reaches nothing.

Deliveries here go to real loopback listeners. "Never connected" is observed on a
listening socket: a connection attempt would be waiting in its accept queue.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.helpers.smtp_sink import TestCA
from tests.helpers.webhook_receiver import verify_at_fake_time, webhook_receiver
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.errors import InvalidWebhookEndpoint
from cssec.vendor_service.models import DeliveryAttempt
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.sender import REFUSED_BY_POLICY, deliver_due
from cssec.vendor_service.services._context import transaction
from cssec.vendor_service.services.webhook_targets import (
    Resolver,
    TargetPolicy,
    address_class,
    policy_of,
)
from cssec.vendor_service.services.webhooks import check_url
from cssec.vendor_service.settings import VendorSettings
from cssec.vendor_service.webhook_transport import PinnedTransport

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"
STRICT = TargetPolicy()

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "private"),  # CGNAT
    ("100.100.100.200", "private"),  # Alibaba's metadata, inside CGNAT
    ("169.254.169.254", "link_local"),  # AWS, GCP and Azure metadata
    ("fe80::1", "link_local"),
    ("fd00:ec2::254", "unique_local"),  # AWS metadata over IPv6
    ("fc00::1", "unique_local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link_local"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a9fe:a9fe", "link_local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("192.0.2.1", "not_public"),  # documentation
    ("198.18.0.1", "not_public"),  # benchmarking
    ("240.0.0.1", "not_public"),  # reserved
    ("2001:db8::1", "not_public"),
    ("fec0::1", "not_public"),  # site-local
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_every_internal_address_class_is_refused(address: str, kind: str) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(InvalidWebhookEndpoint) as refused:
        check_url(f"https://{host}/hooks", STRICT)
    assert "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS" in refused.value.message("en")
    assert "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS" in refused.value.message("ja")


@pytest.mark.parametrize("address", [PUBLIC_V4, PUBLIC_V6, "::ffff:93.184.216.34"])
def test_public_addresses_pass(address: str) -> None:
    assert address_class(ipaddress.ip_address(address)) is None
    host = f"[{address}]" if ":" in address else address
    assert check_url(f"https://{host}/hooks", STRICT)


@pytest.mark.parametrize(
    "name", ["metadata.google.internal", "METADATA.google.internal.", "localhost", "a.localhost"]
)
def test_metadata_and_localhost_names_are_refused_before_any_lookup(name: str) -> None:
    policy = TargetPolicy(resolver=_never)
    with pytest.raises(InvalidWebhookEndpoint) as refused:
        check_url(f"https://{name}/", policy)
    assert "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS" in refused.value.message("en")


def test_a_name_that_resolves_to_an_internal_address_is_refused_in_both_languages() -> None:
    policy = TargetPolicy(resolver=_answers([PUBLIC_V4, "10.0.0.7"]))
    with pytest.raises(InvalidWebhookEndpoint) as refused:
        check_url("https://hooks.example.test/", policy)
    assert "hooks.example.test (10.0.0.7) is a private address" in refused.value.message("en")
    assert "プライベートアドレス" in refused.value.message("ja")


def test_plain_http_needs_the_setting_and_a_named_target() -> None:
    listed = TargetPolicy.parse("127.0.0.1", allow_http=False)
    http_on = TargetPolicy.parse("127.0.0.1", allow_http=True)
    for policy, url in (
        (STRICT, f"http://{PUBLIC_V4}/"),
        (listed, "http://127.0.0.1:9/"),  # named, but http is off
        (http_on, f"http://{PUBLIC_V4}/"),  # http on, but not named
    ):
        with pytest.raises(InvalidWebhookEndpoint, match="https://"):
            check_url(url, policy)
    assert check_url("http://127.0.0.1:9/", http_on)


def test_the_allow_list_names_addresses_networks_and_hosts_v4_and_v6() -> None:
    policy = TargetPolicy.parse(
        "10.20.0.0/16, fd12:3456::/32, 169.254.169.254, hooks.corp.example",
        resolver=_answers(["192.168.5.5"]),
    )
    for url in (
        "https://10.20.3.4/x",
        "https://[fd12:3456::9]/x",
        "https://169.254.169.254/x",
        "https://hooks.corp.example/x",  # a named host: whatever it resolves to
    ):
        assert check_url(url, policy)
    for url in ("https://10.21.0.1/x", "https://[fd12:3457::1]/x", "https://other.example/x"):
        with pytest.raises(InvalidWebhookEndpoint):
            check_url(url, policy)


def test_settings_reach_the_policy_of_the_vendors_sessions(vendor: Vendor) -> None:
    """The test settings name 127.0.0.1 (conftest); the default names nothing."""
    assert VendorSettings.model_fields["webhook_allowed_targets"].default == ""
    assert VendorSettings.model_fields["webhook_allow_http"].default is False
    with vendor.session() as session:
        policy = policy_of(session)
    assert policy.allow_http
    assert policy.listed("127.0.0.1", [ipaddress.ip_address("127.0.0.1")])


# --- deliveries ----------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that records connection attempts and answers none."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def _connected(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def _queue_one(vendor: Vendor, url: str, policy: TargetPolicy) -> None:
    with vendor.session() as session:
        services.add_webhook_endpoint(
            session, url=url, secret=SECRET, events=["code.revoked"], actor="t", policy=policy
        )
        with transaction(session):
            services.emit_event(session, "code.revoked", {"serial": 1, "product": "CS"})


def _log(vendor: Vendor) -> list[str | None]:
    with vendor.session() as session:
        return list(session.scalars(select(DeliveryAttempt.error).order_by(DeliveryAttempt.id)))


def test_an_endpoint_refused_at_delivery_is_logged_and_never_connected_to(
    vendor: Vendor, listener: socket.socket
) -> None:
    """Added while the operator named loopback (or before this policy existed); the
    policy now names nothing: the delivery says why and knocks on no port."""
    port = listener.getsockname()[1]
    _queue_one(
        vendor, f"http://127.0.0.1:{port}/hooks", TargetPolicy.parse("127.0.0.1", allow_http=True)
    )
    [delivery] = deliver_due(vendor, policy=STRICT)
    assert not delivery.ok
    assert delivery.status_code is None
    assert delivery.error is not None
    assert delivery.error.startswith(f"{REFUSED_BY_POLICY}: 127.0.0.1 is a loopback address")
    assert _log(vendor) == [delivery.error]
    assert not _connected(listener)


def test_dns_rebinding_reaches_nothing(vendor: Vendor, listener: socket.socket) -> None:
    """The name answers a public address when the endpoint is added and 127.0.0.1 at
    delivery: refused, and the loopback port never sees a connection."""
    port = listener.getsockname()[1]
    rebinding = TargetPolicy(resolver=_answers([PUBLIC_V4], ["127.0.0.1"]))
    _queue_one(vendor, f"https://rebind.example.test:{port}/hooks", rebinding)
    [delivery] = deliver_due(vendor, policy=rebinding)
    assert delivery.error is not None
    assert delivery.error.startswith(
        f"{REFUSED_BY_POLICY}: rebind.example.test (127.0.0.1) is a loopback address"
    )
    assert not _connected(listener)


def test_the_post_goes_to_the_address_checked_with_the_original_host(
    vendor: Vendor, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once per attempt, by the policy; httpx never resolves it (it
    could not: the name exists only in this resolver), and the Host header is the name's."""
    verify_at_fake_time(monkeypatch, clock)
    calls: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["10.66.0.1"]

    with webhook_receiver() as receiver:
        receiver.secret = SECRET
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        policy = TargetPolicy.parse("127.0.0.0/8", allow_http=True, resolver=resolver)
        url = f"http://hooks.example.test:{port}/hooks"
        with vendor.session() as session:  # added by a policy that never resolves
            services.add_webhook_endpoint(
                session, url=url, secret=SECRET, events=["code.revoked"], actor="t",
                policy=TargetPolicy.parse("hooks.example.test", allow_http=True),
            )  # fmt: skip
            with transaction(session):
                services.emit_event(session, "code.revoked", {"serial": 1, "product": "CS"})
        [delivery] = deliver_due(vendor, policy=policy)
        assert delivery.ok, delivery.error
        assert calls == ["hooks.example.test"]
        [post] = receiver.received()
    assert post.headers["host"] == f"hooks.example.test:{port}"
    assert post.error is None
    assert post.verified["type"] == "code.revoked"


def test_a_redirect_is_not_followed(vendor: Vendor, listener: socket.socket) -> None:
    """A named receiver answering 307 to another loopback port: the attempt fails with its
    status, and the other port is never reached."""
    other = listener.getsockname()[1]
    with _redirecting_receiver(f"http://127.0.0.1:{other}/elsewhere") as url:
        _queue_one(vendor, url, TargetPolicy.parse("127.0.0.1", allow_http=True))
        [delivery] = deliver_due(vendor, policy=TargetPolicy.parse("127.0.0.1", allow_http=True))
    assert (delivery.ok, delivery.status_code, delivery.error) == (False, 307, "HTTP 307")
    assert not _connected(listener)


# --- helpers -------------------------------------------------------------------------------


def _never(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"{host} was looked up")


def _answers(*answers: list[str]) -> Resolver:
    """A resolver that gives each answer in turn (the last one from then on)."""
    given = list(answers)

    def resolve(host: str, port: int) -> Sequence[str]:
        return given.pop(0) if len(given) > 1 else given[0]

    return resolve


@contextmanager
def _redirecting_receiver(location: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(307)
            self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- where an admin meets the refusal ------------------------------------------------------


def test_cli_webhook_add_refuses_the_metadata_address_in_japanese_and_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS", raising=False)
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    url = "https://169.254.169.254/latest/meta-data/"
    args = ["webhook", "add", url, "--events", "code.revoked",
            "--secret-file", str(secret_file), "--data", str(tmp_path / "v")]  # fmt: skip
    for lang, reason in (("en_US.UTF-8", "link-local address"), ("ja_JP.UTF-8", "リンクローカル")):
        monkeypatch.setenv("LANG", lang)
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_MESSAGES", raising=False)
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 1
        assert "invalid_webhook_endpoint" in result.stderr
        assert reason in result.stderr
        assert "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS" in result.stderr


# --- HTTPS to a pinned address -------------------------------------------------------------


@contextmanager
def _https_receiver(context: ssl.SSLContext) -> Iterator[tuple[int, list[str], list[str]]]:
    """A TLS receiver on 127.0.0.1: yields its port, the server names (SNI) clients sent
    and the Host headers of the posts it answered."""
    names: list[str] = []
    hosts: list[str] = []

    def server_name(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name or "")

    context.sni_callback = server_name

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            hosts.append(self.headers.get("host", ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], names, hosts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_https_to_the_pinned_address_keeps_the_hosts_name_for_sni_and_the_certificate(
    tmp_path: Path,
) -> None:
    """Connected to 127.0.0.1, the TLS handshake still names hooks.example.test and the
    certificate is checked against that name: one for another name is refused."""
    ca = TestCA(tmp_path / "ca")
    trust = ssl.create_default_context(cafile=str(ca.ca_file))
    policy = TargetPolicy.parse("127.0.0.1", resolver=_answers(["127.0.0.1"]))
    with (
        _https_receiver(ca.server_context(("hooks.example.test",))) as (port, names, hosts),
        httpx.Client(transport=PinnedTransport(policy, verify=trust)) as client,
    ):
        url = f"https://hooks.example.test:{port}/hooks"
        assert client.post(url, content=b"{}").status_code == 204
    assert names == ["hooks.example.test"]
    assert hosts == [f"hooks.example.test:{port}"]
    with (
        _https_receiver(ca.server_context(("other.example.test",))) as (port, names, hosts),
        httpx.Client(transport=PinnedTransport(policy, verify=trust)) as client,
        pytest.raises(httpx.ConnectError, match="certificate"),
    ):
        client.post(f"https://hooks.example.test:{port}/hooks", content=b"{}")
    assert hosts == []


def test_an_internationalised_name_is_judged_in_the_form_it_is_resolved_in() -> None:
    asked: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return ["10.0.0.1"]

    with pytest.raises(InvalidWebhookEndpoint, match="private address"):
        check_url("https://bücher.example/hooks", TargetPolicy(resolver=resolver))
    assert asked == ["xn--bcher-kva.example"]
    named = TargetPolicy.parse("bücher.example", resolver=resolver)
    assert check_url("https://bücher.example/hooks", named)


def test_a_name_that_cannot_be_resolved_fails_the_attempt_and_nothing_else() -> None:
    """A label too long for DNS: added (it is checked again at delivery), then each
    attempt fails as a connection error, logged like any other."""
    url = f"https://{'a' * 70}.example/hooks"
    assert check_url(url, STRICT) == url
    with (
        httpx.Client(transport=PinnedTransport(STRICT)) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.post(url, content=b"{}")
