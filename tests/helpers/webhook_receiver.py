"""A real HTTP receiver on a loopback port (http.server in a thread) that records every
webhook post and answers with the statuses it is told to (then 204). With `secret` set it
verifies each post as it arrives, as a real receiver would (`standardwebhooks`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import standardwebhooks.webhooks as swh
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from cssec.core.clock import Clock


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified: Any = None
    """The parsed body when the signature checked out (with `Receiver.secret`)."""
    error: str | None = None


@dataclass
class Receiver:
    url: str = ""
    secret: str | None = None
    answers: list[int] = field(default_factory=list)
    """Statuses for the next posts, in order; 204 once they are used up."""
    posts: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.posts)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received()) >= count, timeout)
        return self.received()


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 204
                post = Received(self.path, headers, body, status)
                if receiver.secret is not None:
                    try:
                        post.verified = Webhook(receiver.secret).verify(body, headers)
                    except WebhookVerificationError as exc:
                        post.error = str(exc)
                receiver.posts.append(post)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()
            with receiver.arrived:
                receiver.arrived.notify_all()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def verify_at_fake_time(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """The receiver checks webhook-timestamp against its own "now": make it `clock`'s."""

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> ClockDatetime:  # type: ignore[override]
            return cls.fromtimestamp(clock.now().timestamp(), tz=UTC)

    monkeypatch.setattr(swh, "datetime", ClockDatetime)
