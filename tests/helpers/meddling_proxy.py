"""A loopback HTTP proxy in front of the real vendor process that misbehaves on demand:
answers late, answers 500, or alters what the vendor signed (test code).

Modes: "up" (pass through), "slow" (wait `delay` seconds before answering), "http_500",
"bad_signature" (the signed statement is altered after signing: status contract_end,
manifest version), "wrong_key" (the statement is re-signed with a key the server never
pinned)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from cssec.core.signing import SigningKey, sign_statement

FORGED_END = "2099-12-31"
FOREIGN_KEY = SigningKey.generate()
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Meddler:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "up"
        self.delay = 3.0
        self.released = threading.Event()
        self.paths: list[str] = []

    def alter(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        statement = body.get("statement")
        if not isinstance(statement, dict):
            return body
        if self.mode == "wrong_key":
            return sign_statement(statement, FOREIGN_KEY)
        if self.mode == "bad_signature" and path.endswith("/status"):
            statement["contract_end"] = FORGED_END
        elif self.mode == "bad_signature" and path.endswith("/activeupdate/manifest"):
            for component in statement.get("components", {}).values():
                component["version"] += 1
        return body


def _handler(meddler: Meddler) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout): nothing to tell it

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            meddler.paths.append(f"{self.command} {self.path}")
            if meddler.mode == "slow":
                meddler.released.wait(meddler.delay)
            if meddler.mode == "http_500":
                self._send(500, b"Internal Server Error", "text/plain")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            with httpx.Client(base_url=meddler.upstream, timeout=30) as client:
                response = client.request(self.command, self.path, headers=headers, content=payload)
            body = response.content
            kind = response.headers.get("content-type", "application/octet-stream")
            if meddler.mode in {"bad_signature", "wrong_key"} and kind.startswith(
                "application/json"
            ):
                altered = meddler.alter(self.path, json.loads(body))
                body = json.dumps(altered).encode()
            self._send(response.status_code, body, kind)

        do_GET = _proxy  # noqa: N815
        do_POST = _proxy  # noqa: N815

    return Handler


@contextmanager
def meddling_proxy(upstream: str) -> Iterator[tuple[Meddler, str]]:
    meddler = Meddler(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(meddler))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield meddler, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        meddler.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
