"""Running an ASGI app under uvicorn, in one process or several, with TCP_NODELAY.

Why this module exists: with `workers > 1` uvicorn binds the listening socket in the
supervisor and hands it to each worker process, where it arrives with protocol number 0.
asyncio only sets TCP_NODELAY on sockets whose protocol is IPPROTO_TCP, so the workers'
connections keep Nagle's algorithm on. uvicorn writes a response's head and body in two
sends; the body then waits for the client's delayed ACK of the head, about 40 ms on Linux.
Measured on loopback (bench/_hello.py, 2 workers, wrk -c64): 1,450 req/s with a flat
44 ms latency and idle CPUs, against 17,150 req/s once each connection has TCP_NODELAY.
`NoDelayH11Protocol` sets it on every accepted connection, whatever the socket's origin.

It also bounds how long a client may take to send a request (`HttpLimits`): uvicorn has a
keep-alive timeout and a concurrency limit, but with h11 no timeout on reading a request,
so a client sending one header line every few seconds held its connection (and a file
descriptor) for ever. The protocol arms a deadline for the whole request head, from the
connection's (or the next request's) first byte, and an idle deadline while a body
arrives, and closes the connection when either passes (nginx's client_header_timeout and
client_body_timeout, here whatever the front). Another server was considered: hypercorn
has a --read-timeout, but it is per read, restarted by every header line, so a line sent a
little faster than it still holds the connection for ever; what ends a trickle is a
deadline for the whole head and a minimum pace for the body. And the bench figures, the
head-with-body write and the graceful stop are measured on uvicorn; a small subclass keeps
them.

`run()` is what `cssec vendor serve` and `cssec server serve` use, and the benches serve
both the vendor and the bare baseline through `python -m cssec.web.serving`, so a figure
and its baseline are always served the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.constants
import functools
import socket
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

BODY_PROGRESS = 1024
"""Bytes of a request body that re-arm its deadline: a body must bring this much (or its
end) in every `body_timeout`, so one byte now and then does not hold a connection."""

MIN_HANDSHAKE_TIMEOUT = 10.0

STOP_TIMEOUT = 20
"""Seconds `serve` waits, on SIGTERM or SIGINT, for the requests in flight before it closes
their connections; then the lifespan's shutdown runs (the vendor writes its last
status-history batch, the server stops its scheduler). Service managers should allow a
little more (deploy/*.service: TimeoutStopSec=30)."""


class _LimitSettings(Protocol):
    """The four fields that both apps' settings carry (vendor and server)."""

    @property
    def http_head_timeout(self) -> float: ...
    @property
    def http_body_timeout(self) -> float: ...
    @property
    def http_keep_alive(self) -> int: ...
    @property
    def http_max_concurrency(self) -> int: ...


@dataclass(frozen=True)
class HttpLimits:
    """How long a client may take, and how many a worker serves at once."""

    head_timeout: float = 10.0
    """Seconds to send a request's line and headers, from its first byte (or from the
    connection, for the first request; a TLS handshake gets as long, 10 s at least)."""
    body_timeout: float = 30.0
    """Seconds within which a request body must bring `BODY_PROGRESS` more bytes (or end)."""
    keep_alive: int = 5
    """Seconds an idle keep-alive connection stays open between two requests."""
    max_concurrency: int = 200
    """Connections or requests in flight per worker beyond which requests answer 503 at
    once (uvicorn's limit_concurrency) instead of queueing without bound."""

    @classmethod
    def of(cls, settings: _LimitSettings) -> HttpLimits:
        return cls(
            head_timeout=settings.http_head_timeout,
            body_timeout=settings.http_body_timeout,
            keep_alive=settings.http_keep_alive,
            max_concurrency=settings.http_max_concurrency,
        )


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY on the accepted connection, a response's
    head written together with its body (`HeadWithBodyTransport`), and read deadlines: a
    request head must arrive within `head_timeout` of its first byte (of the connection,
    for the first one), and a body must bring `BODY_PROGRESS` bytes (or its end) within
    every `body_timeout`; otherwise the connection is closed. Between requests uvicorn's
    keep-alive timeout applies."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        head_timeout: float = HttpLimits.head_timeout,
        body_timeout: float = HttpLimits.body_timeout,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timeout = head_timeout
        self._body_timeout = body_timeout
        self._read_deadline: asyncio.TimerHandle | None = None
        self._reading_body = False
        self._body_progress = 0
        if config.is_ssl:
            _bound_tls_handshake(head_timeout)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(HeadWithBodyTransport(transport))  # type: ignore[arg-type]
        self._arm(self._head_timeout)  # the first request's head, from the connection

    def data_received(self, data: bytes) -> None:
        starting = self.conn.their_state is h11.IDLE and self._read_deadline is None
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._body_progress += len(data)
            if not self._reading_body or self._body_progress >= BODY_PROGRESS:
                self._arm(self._body_timeout, body=True)
        elif state is h11.IDLE:
            if starting:  # the next request on a kept-alive connection, its head unfinished
                self._arm(self._head_timeout)
        else:  # the request is in (or the connection is ending)
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, *, body: bool = False) -> None:
        self._disarm()
        self._reading_body = body
        self._body_progress = 0
        self._read_deadline = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None
        self._reading_body = False

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if self._reading_body and self.flow.read_paused:
            self._arm(self._body_timeout, body=True)  # the app is not reading: ours to wait
            return
        if self.client:
            self.logger.info("%s:%d - request not received in time: closed", *self.client)
        self.transport.close()


def _bound_tls_handshake(seconds: float) -> None:
    """A TLS handshake takes at most `seconds` (10 at least), not asyncio's default 60:
    uvicorn passes no ssl_handshake_timeout to create_server, so the limit is asyncio's
    constant, read as each connection is accepted, just after this protocol is made.
    Process-wide: it also bounds this process's outgoing handshakes, which never need
    longer than the 10 s the vendor is given to answer."""
    asyncio.constants.SSL_HANDSHAKE_TIMEOUT = min(
        asyncio.constants.SSL_HANDSHAKE_TIMEOUT, max(seconds, MIN_HANDSHAKE_TIMEOUT)
    )


class HeadWithBodyTransport:
    """A transport whose response heads wait for the next write (the body, in the same
    event-loop turn) or the end of the turn, and then go out with it in one write.

    uvicorn writes a response's head and its body separately. A process killed between
    the two (SIGKILL, a crash) leaves the balancer with a head promising a body that never
    comes; it has passed the head on to the client already and cannot try another node,
    so the client sees a broken answer. Written together, the kernel has all of it or
    none: none, and nginx sends the request to another node (deploy/nginx). Fewer packets
    too. Everything else is the wrapped transport's."""

    _HEAD = b"HTTP/1."

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held:
            self._held.append(bytes(data))
            self._release()
        elif bytes(data[: len(self._HEAD)]) == self._HEAD:
            self._held.append(bytes(data))
            asyncio.get_running_loop().call_soon(self._release)
        else:
            self._transport.write(data)

    def _release(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def write_eof(self) -> None:
        self._release()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def run(
    app: Any,
    *,
    host: str,
    port: int,
    workers: int = 1,
    factory: bool = False,
    log_level: str = "info",
    access_log: bool = True,
    tls: tuple[str, str] | None = None,
    trusted_proxies: str | None = None,
    limits: HttpLimits | None = None,
) -> None:
    """Serve `app` (an ASGI app, or an import string, required when workers > 1).

    `tls` (certificate file, key file): serve HTTPS. Proxy headers (X-Forwarded-For,
    X-Forwarded-Proto) are honoured only from `trusted_proxies` (uvicorn's
    forwarded_allow_ips: addresses, networks or "*"); without it the peer address is the
    client address, which the rate limits key on. `limits`: read deadlines, keep-alive
    and concurrency (`HttpLimits`; its defaults when None).
    """
    import uvicorn  # noqa: PLC0415  (only serving needs it)

    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        factory=factory,
        **uvicorn_options(limits or HttpLimits()),
        proxy_headers=trusted_proxies is not None,
        forwarded_allow_ips=trusted_proxies,
        log_level=log_level,
        access_log=access_log,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        timeout_graceful_shutdown=STOP_TIMEOUT,
    )


def uvicorn_options(limits: HttpLimits) -> dict[str, Any]:
    """uvicorn.Config's arguments that carry `limits` (the protocol class, bound to the
    read deadlines, is a partial so that worker processes can unpickle it)."""
    return {
        "http": functools.partial(
            NoDelayH11Protocol, head_timeout=limits.head_timeout, body_timeout=limits.body_timeout
        ),
        "timeout_keep_alive": limits.keep_alive,
        "limit_concurrency": limits.max_concurrency,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m cssec.web.serving", description="Serve an ASGI app by import string."
    )
    parser.add_argument("target", help='"module:attribute"')
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--factory", action="store_true", help="target is an app factory")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--ssl-certfile", help="serve HTTPS with this certificate")
    parser.add_argument("--ssl-keyfile", help="and this key")
    args = parser.parse_args(argv)
    run(
        args.target,
        host=args.host,
        port=args.port,
        workers=args.workers,
        factory=args.factory,
        log_level=args.log_level,
        access_log=False,
        tls=(args.ssl_certfile, args.ssl_keyfile) if args.ssl_certfile else None,
    )


if __name__ == "__main__":
    main()
