"""Fixtures for the client: test files built at runtime, and a peer speaking the agent API.

`AgentPeer` is a small FastAPI app that implements the server side of the agent contract
(`/api/v1/agent/...`, see briefs/activeupdate-contract.md and the issue-6 additions:
heartbeat settings, outbreak-policy/applied, cleanup-result) with real Ed25519 signatures,
the shared error handlers and the core policy table, served by uvicorn on a loopback
port so the client (and its CLI) talk real HTTP to it. It is a stand-in for the C/S Sec.
server until that exists; tests only use the `agent_server` fixture's interface
(url, publish, expire_license, tamper switches, received reports), so the fixture can be
pointed at the real server later without touching the tests.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import Result
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from typer.testing import CliRunner

import cssec
from cssec.client.cli import app as client_cli
from cssec.core.components import (
    COMPONENT_FILENAMES,
    STEP_BACK_HEADER,
    ComponentVersion,
    Manifest,
    sha256_hex,
)
from cssec.core.errors import NotAuthenticated, NotFound
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Operation, decide, distribution_operation
from cssec.core.signing import SigningKey, sign_statement
from cssec.web.http import LanguageMiddleware, install_error_handlers

SEED_DIR = Path(cssec.__file__).parent / "vendor_service" / "activeupdate_seed"
PUBLISHED_AT = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def eicar_bytes() -> bytes:
    """The EICAR test string, joined at runtime so no file of the repo holds it whole."""
    first = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
    second = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    return first + second


def spyware_marker() -> bytes:
    return b"CSSEC-SPYWARE-" + b"TEST-SIGNATURE"


def seed_files() -> dict[Component, bytes]:
    return {c: (SEED_DIR / name).read_bytes() for c, name in COMPONENT_FILENAMES.items()}


@dataclass
class AgentPeer:
    """The server side of the agent API, with switches for the failures tests need."""

    vendor_key: SigningKey = field(default_factory=SigningKey.generate)
    license_state: LicenseState = LicenseState.ACTIVATED
    dcs_state: LicenseState = LicenseState.ACTIVATED
    """The Damage Cleanup Services slot: it governs the template's distribution only."""
    serial: int = 1
    versions: dict[Component, ComponentVersion] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    install_tokens: set[str] = field(default_factory=set)
    # failure switches
    sign_with: SigningKey | None = None
    tamper_manifest: bool = False
    tamper_files: bool = False
    truncate_files: bool = False
    fail_reports_with: int | None = None
    manifest_override: dict[str, Any] | None = None
    step_back_from: int | None = None
    """Sent as the manifest's Cssec-Step-Back-From header (the server rolled back)."""
    # issue-6 settings the heartbeat hands out
    realtime_scan: bool = True
    realtime_folders: list[str] | None = None
    outbreak_policy: dict[str, Any] | None = None
    cleanup_requests: list[dict[str, Any]] = field(default_factory=list)
    # what the peer received
    update_results: list[dict[str, Any]] = field(default_factory=list)
    virus_logs: list[dict[str, Any]] = field(default_factory=list)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    policy_reports: list[dict[str, Any]] = field(default_factory=list)
    cleanup_results: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        for component, data in seed_files().items():
            self.put_version(component, 1, data)

    def put_version(self, component: Component, version: int, data: bytes) -> ComponentVersion:
        cv = ComponentVersion(component, version, sha256_hex(data), len(data), PUBLISHED_AT)
        self.versions[component] = cv
        self.files[cv.sha256] = data
        return cv

    def publish(self, component: Component, data: bytes) -> ComponentVersion:
        """A new version of `component`, as the vendor's ActiveUpdate would publish it."""
        self.serial += 1
        return self.put_version(component, self.versions[component].version + 1, data)

    def expire_license(self) -> None:
        self.license_state = LicenseState.EXPIRED

    def deploy_policy(
        self,
        policy_id: int,
        *,
        deny_write_shares: list[str] | None = None,
        block_ports: list[int] | None = None,
        deny_files: list[str] | None = None,
    ) -> None:
        """The administrator deploys an outbreak prevention policy (the Web manager's 配信)."""
        self.outbreak_policy = {
            "id": policy_id,
            "action": "deploy",
            "deny_write_shares": deny_write_shares or [],
            "block_ports": block_ports or [],
            "deny_files": deny_files or [],
            "issued_at": "2026-05-01T09:00:00Z",
        }

    def release_policy(self) -> None:
        assert self.outbreak_policy is not None
        self.outbreak_policy = {
            **self.outbreak_policy,
            "action": "release",
            "issued_at": "2026-05-02T09:00:00Z",
        }

    def request_cleanup(self, request_id: int, paths: list[str] | None = None) -> None:
        """The administrator runs Damage Cleanup on this client from the Web manager."""
        self.cleanup_requests.append(
            {"id": request_id, "requested_at": "2026-05-01T10:00:00Z", "paths": paths}
        )

    def manifest_envelope(self) -> dict[str, Any]:
        if self.manifest_override is not None:
            return self.manifest_override
        manifest = Manifest(
            serial=self.serial, issued_at=PUBLISHED_AT, components=dict(self.versions)
        )
        envelope = sign_statement(manifest.to_statement(), self.sign_with or self.vendor_key)
        if self.tamper_manifest:
            envelope["statement"]["components"]["virus_pattern"]["version"] += 1
        return envelope


def _authorize(peer: AgentPeer, request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    client_id = peer.tokens.get(token) if scheme.lower() == "bearer" else None
    if client_id is None:
        raise NotAuthenticated
    return client_id


def build_peer_app(peer: AgentPeer) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(LanguageMiddleware)

    @app.post("/api/v1/agent/enroll")
    async def enroll(request: Request) -> dict[str, Any]:
        body = await request.json()
        peer.enrollments.append(body)
        if body.get("route") != "autopcc" and body.get("install_token") not in peer.install_tokens:
            raise NotAuthenticated("install token required")
        client_id = f"client-{len(peer.enrollments)}"
        token = secrets.token_urlsafe(16)
        peer.tokens[token] = client_id
        return {
            "client_id": client_id,
            "client_token": token,
            "server_id": "server-1",
            "vendor_keys": {"keys": [peer.vendor_key.public.to_jwk()]},
        }

    @app.get("/api/v1/agent/manifest")
    async def manifest(request: Request) -> JSONResponse:
        _authorize(peer, request)
        decide(Product.CS, peer.license_state, Operation.CLIENT_MANUAL_UPDATE).raise_if_refused()
        step_back = peer.step_back_from
        headers = {STEP_BACK_HEADER: str(step_back)} if step_back is not None else None
        return JSONResponse(peer.manifest_envelope(), headers=headers)

    @app.get("/api/v1/agent/files/{component}/{sha256}")
    async def files(request: Request, component: Component, sha256: str) -> Response:
        _authorize(peer, request)
        operation = distribution_operation(component)
        decide(Product.CS, peer.license_state, operation).raise_if_refused()
        decide(Product.DCS, peer.dcs_state, operation).raise_if_refused()
        data = peer.files.get(sha256)
        if data is None:
            raise NotFound
        if peer.tamper_files:
            data = bytes([data[0] ^ 1]) + data[1:]
        if peer.truncate_files:
            data = data[: len(data) // 2]
        return Response(data, media_type="application/octet-stream")

    def report(kind: list[dict[str, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            _authorize(peer, request)
            if peer.fail_reports_with is not None:
                body = {"code": "unavailable", "message": "down for maintenance"}
                return JSONResponse(body, status_code=peer.fail_reports_with)
            kind.append(await request.json())
            return Response(status_code=204)

        return endpoint

    app.post("/api/v1/agent/update-result")(report(peer.update_results))
    app.post("/api/v1/agent/virus-log")(report(peer.virus_logs))
    app.post("/api/v1/agent/outbreak-policy/applied")(report(peer.policy_reports))

    @app.post("/api/v1/agent/cleanup-result")
    async def cleanup_result(request: Request) -> Response:
        response = await report(peer.cleanup_results)(request)
        if response.status_code == 204:
            done = peer.cleanup_results[-1].get("request_id")
            peer.cleanup_requests = [r for r in peer.cleanup_requests if r["id"] != done]
        return response

    @app.post("/api/v1/agent/heartbeat")
    async def heartbeat(request: Request) -> Any:
        _authorize(peer, request)
        body = await request.json()
        if not isinstance(body.get("status"), dict):
            return JSONResponse({"code": "validation_error", "message": "status"}, 422)
        peer.heartbeats.append(body)
        return {
            "realtime_scan": peer.realtime_scan,
            "realtime_folders": peer.realtime_folders,
            "outbreak_policy": peer.outbreak_policy,
            "cleanup_requests": list(peer.cleanup_requests),
        }

    return app


class _Served:
    """The app behind one uvicorn on a loopback port; each test swaps its own peer in."""

    def __init__(self) -> None:
        self.peer = AgentPeer()
        outer = self

        async def dispatch(scope: Any, receive: Any, send: Any) -> None:
            await outer.app(scope, receive, send)

        self.app = build_peer_app(self.peer)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            dispatch, log_level="critical", lifespan="off", ws="none", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()

    def reset(self) -> AgentPeer:
        self.peer = AgentPeer(url=self.url)
        self.app = build_peer_app(self.peer)
        return self.peer

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def _served() -> Iterator[_Served]:
    served = _Served()
    yield served
    served.stop()


@pytest.fixture
def agent_server(_served: _Served) -> AgentPeer:
    """A fresh agent API peer (version 1 of every component published) on a loopback URL."""
    return _served.reset()


@pytest.fixture
def unused_url() -> str:
    """A loopback URL nothing listens on: the server is unreachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def eicar() -> bytes:
    return eicar_bytes()


@pytest.fixture
def marker() -> bytes:
    return spyware_marker()


@pytest.fixture
def seed() -> dict[Component, bytes]:
    return seed_files()


@pytest.fixture
def seed_dir() -> Path:
    return SEED_DIR


LANG_ENV: dict[str, dict[str, str | None]] = {
    "ja": {"LANG": "ja_JP.UTF-8", "LC_ALL": None, "LC_MESSAGES": None},
    "en": {"LANG": "en_US.UTF-8", "LC_ALL": None, "LC_MESSAGES": None},
}


class Cli:
    """`cssec client …` in-process, in one language."""

    def __call__(self, *args: str, lang: str = "en") -> Result:
        return CliRunner().invoke(client_cli, list(args), env=LANG_ENV[lang])


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def client_dir(tmp_path: Path) -> Path:
    return tmp_path / "client"


@pytest.fixture
def installed(agent_server: AgentPeer, client_dir: Path, cli: Cli) -> Path:
    """A client installed from the peer, with version 1 of every component."""
    result = cli("install", "--server", agent_server.url, "--dir", str(client_dir))
    assert result.exit_code == 0, result.output
    return client_dir
