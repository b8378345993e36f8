"""Fixtures of the vendor tests: a real database (SQLite always, PostgreSQL when
CSSEC_TEST_POSTGRES_URL is set), a fake clock, and the app over an in-process client."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.vendor_service.app import create_app
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.settings import VendorSettings

START = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
_TABLES = (
    "audit_log, status_checks, registrations, activation_codes, registration_keys, "
    "contract_products, contracts, customers, users, component_versions, "
    "delivery_attempts, outbox, webhook_endpoints, contract_notices, tuf_metadata, "
    "portal_sign_ins, login_throttle_sources, login_throttle_failures, "
    "idempotency_records, api_tokens, bulk_jobs, component_rollouts, component_health, "
    "health_reporters"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database for this test session (other engineers share the server)."""
    base = os.environ.get("CSSEC_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CSSEC_TEST_POSTGRES_URL is not set")
    url = make_url(base)
    name = f"cssec_vendor_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(url: str) -> None:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.audit_log')").fetchone()
        if exists and exists[0] is not None:
            conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None means the default: SQLite in the data directory."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> VendorSettings:
    return VendorSettings(
        data_dir=tmp_path / "vendor",
        database_url=database_url,
        rate_limit_storage="memory://",
        registration_rate_limit="1000/minute",
        status_rate_limit="1000/minute",
        # Opted out so the console fixtures sign in by password; the default (on) and
        # the opt-out's warning are tested in console/test_console_totp_policy.py.
        console_require_totp=False,
        # The webhook tests post to loopback receivers (tests/helpers/webhook_receiver.py),
        # named here as an operator would; the default refuses them (test_webhook_targets).
        webhook_allowed_targets="127.0.0.1",
        webhook_allow_http=True,
    )


@pytest.fixture
def vendor(settings: VendorSettings, clock: FakeClock) -> Iterator[Vendor]:
    """The runtime without the web app, for service tests."""
    opened = open_vendor(settings, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def app(settings: VendorSettings, clock: FakeClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    try:
        yield application
    finally:
        application.state.vendor.close()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def database_url_(tmp_path: Path, database_url: str | None) -> str:
    """The database URL spelled out (SQLite file in tmp_path for the sqlite case)."""
    return database_url or f"sqlite+pysqlite:///{tmp_path / 'migrations.db'}"
