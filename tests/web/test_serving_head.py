"""`cssec.web.serving.HeadWithBodyTransport`: a response's head leaves in the same write as
its body, so a process killed between uvicorn's two writes leaves nothing half-sent (the
balancer then retries the request on another node: tests/vendor_service/scale)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from cssec.web.serving import HeadWithBodyTransport


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def _wrapped() -> tuple[Recorder, HeadWithBodyTransport]:
    inner = Recorder()
    return inner, HeadWithBodyTransport(cast(asyncio.Transport, inner))


async def test_head_and_body_are_one_write() -> None:
    inner, transport = _wrapped()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert inner.writes == []  # held for the body
    transport.write(b"ok")
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"more")  # not a head: straight through
    assert inner.writes[-1] == b"more"


async def test_a_head_without_a_body_leaves_at_the_end_of_the_turn() -> None:
    inner, transport = _wrapped()
    transport.write(memoryview(b"HTTP/1.1 304 Not Modified\r\n\r\n"))
    assert inner.writes == []
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]


async def test_close_sends_what_is_held_and_the_rest_is_the_transports() -> None:
    inner, transport = _wrapped()
    transport.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    transport.close()
    assert inner.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]
    assert inner.closed
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)
