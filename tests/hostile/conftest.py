"""Fixtures of the hostile-input and security tests: an in-process vendor (SQLite, fake
clock, rate limits raised), one contract, and a C/S Sec. server installed against that
vendor over httpx's ASGI transport (it never reaches a real vendor)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from tests.helpers.hostile import (
    START,
    install_server_against,
    make_server_app,
    make_vendor_app,
    new_contract,
)

from cssec.core.clock import FakeClock
from cssec.server.settings import ServerSettings
from cssec.vendor_service.services import IssuedContract
from cssec.web import security


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with test-sized cost for hashes made here (HTTP Basic verifies on every API
    call). Hashes keep their own parameters, so verification runs the real code."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def vendor_app(tmp_path: Path, clock: FakeClock) -> Iterator[FastAPI]:
    app = make_vendor_app(tmp_path / "vendor", clock)
    try:
        yield app
    finally:
        app.state.vendor.close()


@pytest.fixture
def contract(vendor_app: FastAPI) -> IssuedContract:
    """C/S Sec. and Damage Cleanup Services, 25 seats, 12 months from START."""
    return new_contract(vendor_app)


@pytest.fixture
def installed_server(
    tmp_path: Path, vendor_app: FastAPI, clock: FakeClock, contract: IssuedContract
) -> tuple[ServerSettings, httpx.AsyncBaseTransport]:
    return install_server_against(tmp_path / "server", vendor_app, clock, contract.codes["CS"])


@pytest.fixture
def server_app(
    installed_server: tuple[ServerSettings, httpx.AsyncBaseTransport], clock: FakeClock
) -> Iterator[FastAPI]:
    settings, transport = installed_server
    app = make_server_app(settings, clock, transport)
    try:
        yield app
    finally:
        app.state.server.engine.dispose()
