"""Fixtures of the server tests: an in-process vendor (cssec.vendor_service.app.create_app) reached
over httpx's ASGI transport, a fake clock shared by both, and installed servers on SQLite
in a temporary directory. Nothing sleeps: tests move the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from tests.helpers.server import START, Desk, ServerFactory, SwitchableTransport

from cssec.core.clock import FakeClock
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.settings import VendorSettings
from cssec.web import security


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with test-sized cost: the tests log in and call the API (HTTP Basic) often,
    and the production parameters are deliberately slow. Hashes keep their own parameters,
    so everything else (verification, rehash checks) runs the real code."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def vendor_app(tmp_path: Path, clock: FakeClock) -> Iterator[FastAPI]:
    settings = VendorSettings(
        data_dir=tmp_path / "vendor",
        registration_rate_limit="10000/minute",
        status_rate_limit="10000/minute",
        console_require_totp=False,  # the seat tests sign the desk in by password
        webhook_allowed_targets="127.0.0.1",  # the loopback webhook receiver, named
        webhook_allow_http=True,
    )
    app = create_vendor_app(settings, clock=clock)
    yield app
    app.state.vendor.close()


@pytest.fixture
def desk(vendor_app: FastAPI) -> Desk:
    return Desk(vendor_app.state.vendor)


@pytest.fixture
def network(vendor_app: FastAPI) -> SwitchableTransport:
    return SwitchableTransport(vendor_app)


@pytest.fixture
async def servers(
    tmp_path: Path, clock: FakeClock, network: SwitchableTransport
) -> AsyncIterator[ServerFactory]:
    factory = ServerFactory(tmp_path=tmp_path, clock=clock, network=network)
    yield factory
    await factory.close()
