"""`cssec.web.serving`'s limits on a real socket: a client that sends its request head or
body a little at a time is cut off within the deadline, one that is merely kept alive is
not, and beyond the concurrency limit requests are answered 503 at once.

Deadlines are one second here (a slow client gives up after three), so these tests wait on
real sockets for at most a few seconds, and no clock is faked: the server's event loop is
what keeps the time.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.helpers.slow_client import connect, seconds_until_closed, served

from cssec.web.serving import BODY_PROGRESS, HttpLimits

LIMITS = HttpLimits(head_timeout=1.0, body_timeout=1.0, keep_alive=5, max_concurrency=50)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the size of the body it read."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with served(echo, LIMITS) as found:
        yield found


def test_a_head_sent_one_line_at_a_time_is_cut_off_within_the_head_timeout(port: int) -> None:
    with connect(port) as sock:
        closed = seconds_until_closed(
            sock, b"GET / HTTP/1.1\r\nHost: localhost\r\n", b"X-Slow: 1\r\n"
        )
    assert closed is not None, "a client trickling header lines was never cut off"
    assert closed >= LIMITS.head_timeout * 0.9  # its deadline, not an early refusal


def test_the_next_request_on_a_kept_connection_has_the_same_deadline(port: int) -> None:
    """After one whole request, the second trickles in: uvicorn's keep-alive timer stops
    at its first byte, so it is this deadline that ends it."""
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while not answer.endswith(b"\r\n\r\n0"):
            answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        closed = seconds_until_closed(sock, b"GET / HTTP/1.1\r\n", b"X-Slow: 1\r\n")
    assert closed is not None, "the second request's trickled head was never cut off"


def test_a_connection_that_sends_nothing_is_closed_within_the_head_timeout(port: int) -> None:
    with connect(port) as sock:
        sock.settimeout(LIMITS.head_timeout + 2)
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < LIMITS.head_timeout + 1


def test_a_body_trickled_a_byte_at_a_time_is_cut_off(port: int) -> None:
    """Each byte arrives well within the body timeout: an idle timer alone would wait for
    ever; the body must bring BODY_PROGRESS bytes per timeout."""
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 60000\r\n\r\n"
    with connect(port) as sock:
        closed = seconds_until_closed(sock, head + b"x", b"x", every=0.2)
    assert closed is not None, "a client trickling its body was never cut off"


def test_a_body_sent_steadily_is_read_whole(port: int) -> None:
    """Slow but steady (BODY_PROGRESS bytes in well under the timeout, twice over the
    head's timeout in all): answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    pieces = 5

    def body() -> Iterator[bytes]:
        for _ in range(pieces):
            time.sleep(0.4)  # a slow sender, on a real socket
            yield b"y" * BODY_PROGRESS

    connection.request(
        "POST", "/", body=body(), headers={"Content-Length": str(pieces * BODY_PROGRESS)}
    )
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, str(pieces * BODY_PROGRESS).encode())
    connection.close()


def test_keep_alive_clients_make_many_requests_on_one_connection(port: int) -> None:
    """Four requests spaced over longer than the head timeout, on the same socket: the
    deadline is per request, and an idle pause shorter than keep-alive closes nothing."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        first_socket = None
        for n in range(4):
            if n:
                time.sleep(0.4)  # a client pausing between requests, on a real socket
            connection.request("POST", "/", body=b"z" * n)
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, str(n).encode())
            first_socket = first_socket or connection.sock
            assert connection.sock is first_socket, "the connection was not kept"
    finally:
        connection.close()


def test_beyond_the_concurrency_limit_requests_are_answered_503_at_once() -> None:
    limits = HttpLimits(head_timeout=5.0, body_timeout=5.0, keep_alive=5, max_concurrency=2)
    with served(echo, limits) as port:
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        try:
            busy = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            busy.request("GET", "/")
            assert busy.getresponse().status == 503
            busy.close()
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 5
        while True:  # the server sees the two close, then answers again
            calm = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            calm.request("GET", "/")
            status = calm.getresponse().status
            calm.close()
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 200
