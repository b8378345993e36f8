"""Helpers of the server tests (imported by conftest and the tests; not a conftest so
it can be imported by name)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.core.codes import MacKey, encode_activation_code
from cssec.core.license import Product
from cssec.core.signing import VerifyingKey
from cssec.server.app import create_app
from cssec.server.licensing.install import InstallRequest, install_server
from cssec.server.licensing.trust import VendorTrust
from cssec.server.models import LicenseSlot, SystemEvent
from cssec.server.settings import ServerSettings
from cssec.server.tls.vendor import VendorTls
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import (
    IssuedContract,
    issue_contract,
    issue_replacement_code,
    renew_contract,
    revoke_code,
)

START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
TZ_NAME = "Asia/Tokyo"
PASSWORD = "correct horse battery"
FOREIGN_MAC = MacKey(kid=1, secret=b"s" * 32)  # not the vendor's: codes pass offline checks only


def foreign_code(product: Product = Product.CS, *, expires_on: date, seats: int = 10) -> str:
    """A structurally valid code the vendor never issued (its MAC fails online)."""
    return encode_activation_code(
        product=product, seats=seats, expires_on=expires_on, serial=4242, key=FOREIGN_MAC
    ).formatted


@dataclass
class Desk:
    """The vendor's support desk, driving the real vendor services."""

    vendor: Vendor

    def contract(
        self,
        *,
        months: int = 12,
        start: date | None = None,
        with_dcs: bool = False,
        seats: int = 25,
        customer: str = "株式会社テスト",
    ) -> IssuedContract:
        with self.vendor.session() as session:
            return issue_contract(
                session,
                customer=customer,
                seats=seats,
                months=months,
                start=start,
                with_dcs=with_dcs,
                actor="test",
            )

    def renew(self, key_or_code: str, *, months: int = 12) -> date:
        with self.vendor.session() as session:
            return renew_contract(session, key_or_code, months=months, actor="test").end

    def reissue(self, key_or_code: str, *, product: str = "CS") -> str:
        with self.vendor.session() as session:
            return issue_replacement_code(session, key_or_code, product=product, actor="test")

    def revoke(self, code: str) -> None:
        with self.vendor.session() as session:
            revoke_code(session, code, actor="test", reason="test")


class SwitchableTransport(httpx.AsyncBaseTransport):
    """The vendor, or a broken network: tests flip `mode` to "down", "slow" or "garbled"."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.inner = httpx.ASGITransport(app=app)
        self.mode = "up"
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "slow":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.mode == "error":
            return httpx.Response(503, json={"code": "service_unavailable"}, request=request)
        response = await self.inner.handle_async_request(request)
        if self.mode == "garbled" and request.url.path == "/api/v1/status":
            await response.aread()
            body = response.json()
            body["statement"]["contract_end"] = "2099-12-31"
            return httpx.Response(200, json=body, request=request)
        return response


@dataclass
class Server:
    settings: ServerSettings
    app: FastAPI
    client: httpx.AsyncClient
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scheduler(self) -> Any:
        return self.app.state.scheduler

    async def login(self, password: str = PASSWORD) -> httpx.Response:
        page = await self.client.get("/login")
        response = await self.client.post(
            "/login",
            data={
                "username": "admin",
                "password": password,
                "csrf_token": csrf_of(page.text),
                "next": "/dashboard",
            },
        )
        return response

    async def csrf(self, path: str = "/admin/licenses") -> str:
        return csrf_of((await self.client.get(path)).text)

    async def api(
        self, method: str, path: str, *, json: Any = None, lang: str = "ja"
    ) -> httpx.Response:
        """The JSON API with HTTP Basic as admin (Basic wins over any session cookie)."""
        return await self.client.request(
            method,
            path,
            json=json,
            auth=("admin", PASSWORD),
            headers={"Accept-Language": lang},
        )

    def slot(self, product: str = "CS") -> LicenseSlot:
        with self.app.state.server.sessionmaker() as session:
            return session.scalars(select(LicenseSlot).where(LicenseSlot.product == product)).one()

    def events(self, kind: str | None = None) -> list[SystemEvent]:
        with self.app.state.server.sessionmaker() as session:
            query = select(SystemEvent).order_by(SystemEvent.id)
            if kind is not None:
                query = query.where(SystemEvent.kind == kind)
            return list(session.scalars(query))

    async def activate_form(
        self, code: str, product: str = "CS", *, confirm: bool = False
    ) -> httpx.Response:
        token = await self.csrf(f"/admin/licenses/activation-code?product={product}")
        data = {"activation_code": code, "product": product, "csrf_token": token}
        if confirm:
            data["confirm"] = "1"
        return await self.client.post("/admin/licenses/activation-code", data=data)

    async def check_form(self, product: str = "CS") -> httpx.Response:
        token = await self.csrf()
        return await self.client.post(
            "/admin/licenses/check-online", data={"product": product, "csrf_token": token}
        )


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def vendor_trust(vendor: Vendor) -> VendorTrust:
    """The trust anchor an operator would copy from `cssec vendor keys public`."""
    current = VerifyingKey.from_jwk(vendor.keyring.jwks()["keys"][0])
    return VendorTrust(fingerprints=(current.fingerprint,))


@dataclass
class ServerFactory:
    tmp_path: Path
    clock: FakeClock
    network: SwitchableTransport
    servers: list[Server] = field(default_factory=list)
    count: int = 0

    async def install(self, **request: Any) -> ServerSettings:
        """Install as an operator would: the vendor's current public key given out of band
        (unless the test gives its own `trust`)."""
        self.count += 1
        data_dir = self.tmp_path / f"server{self.count}"
        request.setdefault("trust", vendor_trust(self.network.app.state.vendor))
        # The in-process vendor is reached through a transport at http://vendor.test: the
        # equivalent of `--insecure-http` (the TLS rules have their own tests).
        request.setdefault("vendor_tls", VendorTls(allow_http=True))
        await install_server(
            InstallRequest(
                data_dir=data_dir,
                vendor_url="http://vendor.test",
                admin_password=PASSWORD,
                **request,
            ),
            clock=self.clock,
            tz=_tz(),
            transport=self.network,
        )
        # Tests jump the clock by days; a long idle limit keeps the login across the jumps.
        return ServerSettings(
            data_dir=data_dir,
            timezone=TZ_NAME,
            check_retry_minutes=60,
            session_idle_minutes=10_000_000,
        )

    def open(self, settings: ServerSettings) -> Server:
        app = create_app(
            settings, clock=self.clock, vendor_transport=self.network, start_scheduler=False
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://server.test"
        )
        server = Server(settings=settings, app=app, client=client)
        self.servers.append(server)
        return server

    async def start(self, **request: Any) -> Server:
        return self.open(await self.install(**request))

    async def close(self) -> None:
        for server in self.servers:
            await server.client.aclose()
            server.app.state.server.engine.dispose()


def _tz() -> Any:
    return ZoneInfo(TZ_NAME)


class SyncBridge(httpx.BaseTransport):
    """The client's sync httpx requests, carried into the app by starlette's TestClient."""

    def __init__(self, http: TestClient) -> None:
        self.http = http

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.http.request(
            request.method,
            str(request.url),
            headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
            content=request.read(),
        )
        return httpx.Response(
            answer.status_code, headers=list(answer.headers.items()), content=answer.content
        )
