"""Admin API fixtures: tokens made as `cssec vendor token create` makes them, a client that
sends one, and a console admin for checking what the API did from the console's side.

The app, clock and database (SQLite, and PostgreSQL when configured) come from
tests/vendor_service/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.helpers.vendor_pages import csrf_of, vendor_of

from cssec.core.clock import FakeClock
from cssec.vendor_service.models import User
from cssec.vendor_service.services.tokens import SCOPES, create_token
from cssec.web.security import hash_password

CONSOLE_ADMIN = ("alice", "correct horse battery")

MakeToken = Callable[..., str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_token(app: FastAPI) -> MakeToken:
    """A token with `scopes` (default: all), as the CLI makes it; returns the token text."""
    made: list[str] = []

    def make(
        name: str | None = None, scopes: list[str] | None = None, days: int | None = None
    ) -> str:
        with vendor_of(app).session() as session:
            created = create_token(
                session,
                name=name or f"t{len(made)}",
                scopes=list(SCOPES) if scopes is None else scopes,
                expires_in_days=days,
                actor="cli:test",
            )
        made.append(created.token)
        return created.token

    return make


@pytest.fixture(scope="session")
def admin_hash() -> str:
    return hash_password(CONSOLE_ADMIN[1])


@pytest.fixture
def console(app: FastAPI, admin_hash: str, clock: FakeClock) -> TestClient:
    """A console client signed in as an admin (password only: the tests' settings do not
    require the second factor)."""
    with vendor_of(app).session() as session:
        session.add(
            User(
                name=CONSOLE_ADMIN[0],
                password_hash=admin_hash,
                role="admin",
                failed_logins=0,
                created_at=clock.now(),
            )
        )
        session.commit()
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": CONSOLE_ADMIN[0],
            "password": CONSOLE_ADMIN[1],
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 200, response.text
    assert str(response.url).endswith("/console/")
    return client
