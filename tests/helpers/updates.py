"""Helpers of the component update tests: publishing at the vendor, and transports that
tamper with, re-sign or cut short what ActiveUpdate sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from tests.helpers.server import Desk, Server, SwitchableTransport

from cssec.core.policy import Component
from cssec.core.signing import SigningKey, sign_statement
from cssec.server.updates.service import Installed, read_installed
from cssec.vendor_service.activeupdate.services import publish_component

SEED = (
    Path(__file__).resolve().parents[2] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)
EXTRA_RULE = b"""
rule Cssec_Test_Marker_V2
{
    strings:
        $m = "CSSEC-UPDATE-TEST-MARKER"
    condition:
        $m
}
"""


def publish_virus_pattern_v2(desk: Desk) -> None:
    data = (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
    with desk.vendor.session() as session:
        publish_component(session, "virus_pattern", data, actor="test")


def installed(server: Server) -> Installed:
    with server.app.state.server.sessionmaker() as session:
        return read_installed(session)


def current_versions(server: Server) -> dict[Component, int]:
    current = installed(server).current
    assert current is not None
    return {c: v.version for c, v in current.components.items()}


def activeupdate_calls(network: SwitchableTransport) -> int:
    return sum(1 for r in network.requests if "/activeupdate/" in r)


class _CutStream(httpx.AsyncByteStream):
    """Half the body, then the connection drops (as a real peer closing early)."""

    def __init__(self, data: bytes, request: httpx.Request) -> None:
        self.data = data
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data[: len(self.data) // 2]
        raise httpx.RemoteProtocolError("peer closed connection", request=self.request)


class Meddler(httpx.AsyncBaseTransport):
    """Wraps the vendor's ASGI transport (install with `meddle(network)`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.manifest: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.file: Callable[[bytes], bytes] | None = None
        self.cut_files = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        if response.status_code != 200:
            return response
        if self.manifest is not None and path.endswith("/activeupdate/manifest"):
            await response.aread()
            body = self.manifest(json.loads(response.content))
            return httpx.Response(200, json=body, request=request)
        if "/activeupdate/files/" in path and (self.file is not None or self.cut_files):
            await response.aread()
            data = response.content
            if self.file is not None:
                data = self.file(data)
            if self.cut_files:
                return httpx.Response(200, stream=_CutStream(data, request), request=request)
            return httpx.Response(200, content=data, request=request)
        return response


def meddle(network: SwitchableTransport) -> Meddler:
    meddler = Meddler(network.inner)
    network.inner = meddler  # type: ignore[assignment]
    return meddler


def bump_version(envelope: dict[str, Any]) -> dict[str, Any]:
    envelope["statement"]["components"]["virus_pattern"]["version"] += 1
    return envelope


def resign_with_foreign_key(envelope: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(envelope["statement"], SigningKey.generate())


def flip_first_byte(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]
