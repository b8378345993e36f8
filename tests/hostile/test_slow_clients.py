"""Slow clients against both apps as `serve` starts them (issue 22, item 1).

`cssec server serve` (over HTTPS, its installed certificate) and `cssec vendor serve`
(plain HTTP, as without nginx in front) are run through their CLI with one-second read
deadlines from the environment; what they hand to `cssec.web.serving.run` (the app, the
TLS files and the limits) is then served for real on a loopback port. A client sending one
header line at a time is cut off within the deadline; a keep-alive client is not.
Before this, the same client was neither answered nor closed after 150 seconds.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers.slow_client import connect, seconds_until_closed, served
from typer.testing import CliRunner

from cssec.server import cli as server_cli
from cssec.server.settings import ServerSettings
from cssec.vendor_service import cli as vendor_cli
from cssec.web import serving

SLOW_HEAD = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n", b"X-Slow: 1\r\n")


def _started_by(
    monkeypatch: pytest.MonkeyPatch, cli: Any, args: list[str], env: dict[str, str]
) -> dict[str, Any]:
    """What `serve` passed to `cssec.web.serving.run`."""
    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        seen.update(options, app=app)

    monkeypatch.setattr(serving, "run", run)
    result = CliRunner().invoke(cli.app, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen


@pytest.fixture
def server(
    installed_server: tuple[ServerSettings, httpx.AsyncBaseTransport],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[int]:
    settings, _ = installed_server
    seen = _started_by(
        monkeypatch,
        server_cli,
        ["serve", "--data", str(settings.data_dir)],
        {"CSSEC_SERVER_HTTP_HEAD_TIMEOUT": "1", "CSSEC_SERVER_HTTP_BODY_TIMEOUT": "1"},
    )
    assert seen["tls"] is not None, "the server serves HTTPS by default"
    assert seen["limits"].head_timeout == 1.0
    try:
        with served(seen["app"], seen["limits"], tls=seen["tls"]) as port:
            yield port
    finally:
        seen["app"].state.server.engine.dispose()


@pytest.fixture
def vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    seen = _started_by(
        monkeypatch,
        vendor_cli,
        ["serve", "--data", str(tmp_path / "vendor")],
        {"CSSEC_VENDOR_HTTP_HEAD_TIMEOUT": "1", "CSSEC_VENDOR_BACKGROUND_JOBS": "false"},
    )
    assert seen["tls"] is None
    assert seen["limits"].head_timeout == 1.0
    try:
        with served(seen["app"], seen["limits"]) as port:
            yield port
    finally:
        seen["app"].state.vendor.close()


def test_the_server_cuts_off_a_tls_client_that_sends_a_header_line_at_a_time(
    server: int,
) -> None:
    with connect(server, tls=True) as sock:
        closed = seconds_until_closed(sock, *SLOW_HEAD)
    assert closed is not None, "the server kept a trickling TLS client for ever"


def test_the_server_keeps_a_keep_alive_client(server: int) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the installed certificate; pinning is tested elsewhere
    connection = http.client.HTTPSConnection("127.0.0.1", server, timeout=5, context=context)
    try:
        first = None
        for n in range(3):
            if n:
                time.sleep(0.6)  # past the head timeout in all, on a real socket
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            first = first or connection.sock
            assert connection.sock is first, "the connection was not kept"
    finally:
        connection.close()


def test_the_vendor_cuts_off_a_plain_client_that_sends_a_header_line_at_a_time(
    vendor: int,
) -> None:
    with connect(vendor) as sock:
        closed = seconds_until_closed(sock, *SLOW_HEAD)
    assert closed is not None, "the vendor kept a trickling client for ever"


def test_the_vendor_keeps_a_keep_alive_client(vendor: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", vendor, timeout=5)
    try:
        first = None
        for n in range(3):
            if n:
                time.sleep(0.6)  # past the head timeout in all, on a real socket
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            first = first or connection.sock
            assert connection.sock is first
    finally:
        connection.close()
