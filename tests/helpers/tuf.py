"""Helpers of the TUF tests: a vendor with a TUF root, and what an attacker between a
server and the vendor does to TUF traffic (in process: `TufMeddler`; as its own process:
`tests.helpers.attacker`'s tuf_* modes use `rewrite_tuf`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root
from cssec.vendor_service.runtime import Vendor

TUF = "/api/v1/tuf/"
AGENT_TUF = "/api/v1/agent/tuf/"
EVIL_RULE = b"rule Eicar_test_file { condition: true }\n"
PATTERN_TARGETS = ("targets/virus_pattern/", "targets/deltas/virus_pattern/")
"""The virus pattern's whole file, and its deltas (tampered with alike)."""


def install_tuf_root(vendor: Vendor, keys_dir: Path) -> int:
    """`cssec vendor keys root init` + `cssec vendor tuf root install`, in process."""
    if not (keys_dir / "root-keys.json").exists():
        init_root_keys(keys_dir, threshold=2, count=3)
    with vendor.session() as session:
        return install_root(session, load_root_keys(keys_dir))


@dataclass
class TufTampering:
    """What to do to TUF answers. `captured`: answers recorded by path (for replays)."""

    mode: str | None = None
    recording: bool = False
    captured: dict[str, bytes] = field(default_factory=dict)
    prefix: str = TUF
    """Where the TUF repository is: the vendor's, or a server's mirror (`AGENT_TUF`)."""

    def rewrite(self, path: str, body: bytes) -> bytes:
        if not path.startswith(self.prefix):
            return body
        name = path[len(self.prefix) :]
        if self.recording:
            self.captured.setdefault(name, body)
        if self.mode in ("rollback", "freeze") and name == "timestamp.json":
            return self.captured.get(name, body)  # the timestamp recorded earlier, forever
        if self.mode == "mix_and_match" and name.endswith(".targets.json"):
            older = [k for k in self.captured if k.endswith(".targets.json")]
            return self.captured[min(older)] if older else body
        if self.mode == "endless_data" and name.startswith(PATTERN_TARGETS):
            return body + b"\n" * (1 << 20)
        if self.mode == "arbitrary_software" and name.startswith(PATTERN_TARGETS):
            evil = EVIL_RULE + b"//" + b"x" * max(0, len(body) - len(EVIL_RULE) - 3) + b"\n"
            return evil[: len(body)] if len(evil) >= len(body) else evil
        return body


class TufMeddler(httpx.AsyncBaseTransport):
    """Wraps the vendor's ASGI transport; install with `meddle_tuf(network)`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, tampering: TufTampering) -> None:
        self.inner = inner
        self.tampering = tampering

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200 or not request.url.path.startswith(TUF):
            return response
        await response.aread()
        body = self.tampering.rewrite(request.url.path, response.content)
        return httpx.Response(200, content=body, request=request)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
