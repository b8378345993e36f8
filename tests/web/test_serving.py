"""`cssec.web.serving`: several uvicorn workers answer without Nagle's 40 ms stall.

uvicorn hands a multi-worker server's listening socket to its workers with protocol 0, so
asyncio leaves Nagle's algorithm on for their connections; the body of every response
then waits for the client's delayed ACK of its head (about 40 ms on Linux). Served through
`cssec.web.serving`, keep-alive requests on one connection answer at loopback speed.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
REQUESTS = 20
STALL = 0.040  # Linux's minimum delayed-ACK timeout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "tiny_app.py").write_text(APP)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cssec.web.serving", "tiny_app:app", "--port", str(port),
         "--workers", "2"],
        cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)  # waiting for a real process to listen, not faking time
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_two_workers_answer_keep_alive_requests_without_the_delayed_ack_stall(
    served: int,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        durations = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            connection.request("GET", "/")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"ok")
            durations.append(time.perf_counter() - started)
    finally:
        connection.close()
    durations.sort()
    # With Nagle on, every request takes >= 40 ms; the median must be far below.
    assert durations[REQUESTS // 2] < STALL / 4, durations
