"""Console fixtures: an admin and a staff account, one contract, and a logged-in client.

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
from cssec.vendor_service import services
from cssec.vendor_service.models import User
from cssec.web.security import hash_password

ADMIN = ("alice", "correct horse battery")
STAFF = ("bob", "staple battery horse")
CUSTOMER = "株式会社サンプル"


def login(client: TestClient, name: str, password: str) -> TestClient:
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 200, response.text
    assert str(response.url).endswith("/console/")
    return client


def token(client: TestClient, path: str = "/console/") -> str:
    return csrf_of(client.get(path).text)


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """Hashed once: argon2 is deliberately slow and the CPU is shared."""
    return {name: hash_password(password) for name, password in (ADMIN, STAFF)}


@pytest.fixture
def users(app: FastAPI, password_hashes: dict[str, str], clock: FakeClock) -> None:
    """The two accounts, as `cssec vendor user add` would store them (without re-hashing)."""
    with vendor_of(app).session() as session:
        for (name, _password), role in ((ADMIN, "admin"), (STAFF, "staff")):
            session.add(
                User(
                    name=name,
                    password_hash=password_hashes[name],
                    role=role,
                    failed_logins=0,
                    created_at=clock.now(),
                )
            )
        session.commit()


@pytest.fixture
def contract(app: FastAPI) -> services.IssuedContract:
    with vendor_of(app).session() as session:
        return services.issue_contract(
            session, customer=CUSTOMER, seats=25, with_dcs=True, actor="test"
        )


@pytest.fixture
def make_client(app: FastAPI, users: None) -> Callable[..., TestClient]:
    def make(who: tuple[str, str] | None = ADMIN, **headers: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, headers=headers)
        return login(client, *who) if who else client

    return make


@pytest.fixture
def admin(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(ADMIN)


@pytest.fixture
def staff(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(STAFF)
