"""Running an ASGI app under uvicorn, in one process or several, with TCP_NODELAY.

Why this module exists: with `workers > 1` uvicorn binds the listening socket in the
supervisor and hands it to each worker process, where it arrives with protocol number 0.
asyncio only sets TCP_NODELAY on sockets whose protocol is IPPROTO_TCP, so the workers'
connections keep Nagle's algorithm on. uvicorn writes a response's head and body in two
sends; the body then waits for the client's delayed ACK of the head, about 40 ms on Linux.
Measured on loopback (bench/_hello.py, 2 workers, wrk -c64): 1,450 req/s with a flat
44 ms latency and idle CPUs, against 17,150 req/s once each connection has TCP_NODELAY.
`NoDelayH11Protocol` sets it on every accepted connection, whatever the socket's origin.

`run()` is what `cssec vendor serve` uses, and the benches serve both the vendor and the
bare baseline through `python -m cssec.web.serving`, so a figure and its baseline are
always served the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from contextlib import suppress
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

STOP_TIMEOUT = 20
"""Seconds `serve` waits, on SIGTERM or SIGINT, for the requests in flight before it closes
their connections; then the lifespan's shutdown runs (the vendor writes its last
status-history batch, the server stops its scheduler). Service managers should allow a
little more (deploy/*.service: TimeoutStopSec=30)."""


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY on the accepted connection, and a response's
    head written together with its body (`HeadWithBodyTransport`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(HeadWithBodyTransport(transport))  # type: ignore[arg-type]


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
) -> None:
    """Serve `app` (an ASGI app, or an import string, required when workers > 1).

    `tls` (certificate file, key file): serve HTTPS. Proxy headers (X-Forwarded-For,
    X-Forwarded-Proto) are honoured only from `trusted_proxies` (uvicorn's
    forwarded_allow_ips: addresses, networks or "*"); without it the peer address is the
    client address, which the rate limits key on.
    """
    import uvicorn  # noqa: PLC0415  (only serving needs it)

    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        factory=factory,
        http=NoDelayH11Protocol,
        proxy_headers=trusted_proxies is not None,
        forwarded_allow_ips=trusted_proxies,
        log_level=log_level,
        access_log=access_log,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        timeout_graceful_shutdown=STOP_TIMEOUT,
    )


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
