"""A served ASGI app on a loopback port (uvicorn in a thread, configured exactly as
`cssec.web.serving.run` configures it) and a slow client that sends a request a little at a
time on a real socket, to see when the server gives up on it."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from cssec.web.serving import HttpLimits, uvicorn_options

GIVE_UP = 3.0
"""Seconds a slow client keeps going before it reports that nobody cut it off."""


@contextmanager
def served(app: Any, limits: HttpLimits, *, tls: tuple[str, str] | None = None) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 (HTTPS with `tls`) until the block ends; yields the port.
    No lifespan: what is under test is the connection handling, not the app's start-up."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        **uvicorn_options(limits),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)  # waiting for a real thread to listen, not faking time
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def connect(port: int, *, tls: bool = False) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    if not tls:
        return raw
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own server; its certificate is not the point
    return context.wrap_socket(raw, server_hostname="localhost")


def seconds_until_closed(
    sock: socket.socket, first: bytes, then: bytes, *, every: float = 0.25
) -> float | None:
    """Send `first`, then `then` every `every` seconds, as a slow client does; the seconds
    until the server closed the connection, or None if it still had not after GIVE_UP."""
    started = time.monotonic()
    sock.settimeout(every)
    data = first
    while time.monotonic() - started < GIVE_UP:
        try:
            sock.sendall(data)
            answer = sock.recv(4096)
        except TimeoutError:
            data = then  # nothing yet: the server is still waiting for us
            continue
        except OSError:  # reset, broken pipe, TLS EOF: closed
            return time.monotonic() - started
        if not answer:
            return time.monotonic() - started
        raise AssertionError(f"the server answered a request it never got whole: {answer!r}")
    return None
