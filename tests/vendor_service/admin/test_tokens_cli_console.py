"""API tokens as an admin makes them: `cssec vendor token create|list|revoke` and the
console's API tokens page; only the hash is stored, the token is shown once."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.admin.conftest import MakeToken, bearer, csrf_of
from typer.testing import CliRunner

from cssec.vendor_service.app import create_app
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.models import ApiToken, User
from cssec.vendor_service.settings import VendorSettings

runner = CliRunner()
TOKEN = re.compile(r"cssec_[A-Za-z0-9_-]{43}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_token_create_list_revoke(
    settings: VendorSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    data = ["--data", str(settings.data_dir)]
    made = runner.invoke(
        cli_app,
        ["token", "create", "--name", "billing", "--scope", "contracts:read,codes:revoke",
         "--expires", "90", *data],
    )  # fmt: skip
    assert made.exit_code == 0, (made.stdout, made.stderr)
    token = made.stdout.strip().splitlines()[-1]
    assert TOKEN.fullmatch(token)
    assert "scopes contracts:read,codes:revoke" in made.stdout

    unknown = runner.invoke(cli_app, ["token", "create", "--name", "x", "--scope", "all", *data])
    assert unknown.exit_code == 1
    assert "contracts:read" in unknown.stderr  # the refusal lists the scopes there are
    taken = runner.invoke(
        cli_app, ["token", "create", "--name", "billing", "--scope", "audit:read", *data]
    )
    assert taken.exit_code == 1
    assert "billing" in taken.stderr

    listed = runner.invoke(cli_app, ["token", "list", *data])
    assert "billing  active" in listed.stdout
    assert token not in listed.stdout

    app = create_app(settings)
    try:
        with app.state.vendor.session() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.name == "billing"))
            assert row is not None
            assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
            assert token not in repr(vars(row))
        client = TestClient(app, raise_server_exceptions=False)
        assert client.get("/api/v1/admin/contracts", headers=bearer(token)).status_code == 200
        revoked = runner.invoke(cli_app, ["token", "revoke", "billing", *data])
        assert revoked.exit_code == 0, revoked.stderr
        refused = client.get("/api/v1/admin/contracts", headers=bearer(token))
        assert refused.json()["code"] == "api_token_revoked"
        listed = runner.invoke(cli_app, ["token", "list", *data])
        assert "billing  revoked" in listed.stdout
    finally:
        app.state.vendor.close()


def test_console_page_creates_shows_once_and_revokes(
    app: FastAPI, console: TestClient, make_token: MakeToken
) -> None:
    page = console.get("/console/api-tokens")
    assert page.status_code == 200
    created = console.post(
        "/console/api-tokens",
        data={"name": "crm", "scopes": ["contracts:read", "audit:read"], "expires": "30",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    found = TOKEN.search(created.text)
    assert found, "the new token is on the page"
    token = found.group(0)
    assert TOKEN.search(console.get("/console/api-tokens").text) is None  # shown once only
    assert token not in str(console.cookies)

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/api/v1/admin/audit", headers=bearer(token)).status_code == 200
    listed = html.unescape(console.get("/console/api-tokens").text)
    assert "crm" in listed
    assert "console:alice" in listed

    page = console.get("/console/api-tokens")
    revoked = console.post(
        "/console/api-tokens/crm/revoke", data={"csrf_token": csrf_of(page.text)}
    )
    assert revoked.status_code == 200
    assert client.get("/api/v1/admin/audit", headers=bearer(token)).status_code == 401

    audit = client.get(
        "/api/v1/admin/audit", params={"target": "token:crm"}, headers=bearer(make_token())
    ).json()["items"]
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("token.revoked", "console:alice"),
        ("token.created", "console:alice"),
    ]


def test_console_page_is_for_admins_only(app: FastAPI, console: TestClient) -> None:
    from cssec.web.security import hash_password  # noqa: PLC0415

    vendor = app.state.vendor
    with vendor.session() as session:
        session.add(User(name="bob", password_hash=hash_password("staple battery horse"),
                         role="staff", failed_logins=0, created_at=vendor.clock.now()))  # fmt: skip
        session.commit()
    staff = TestClient(app, raise_server_exceptions=False)
    login = staff.get("/console/login")
    staff.post(
        "/console/login",
        data={"username": "bob", "password": "staple battery horse",
              "csrf_token": csrf_of(login.text)},
    )  # fmt: skip
    assert staff.get("/console/").status_code == 200
    assert staff.get("/console/api-tokens").status_code == 403
    assert "api-tokens" not in staff.get("/console/").text


def test_console_token_forms_refuse_a_missing_or_forged_csrf_token(
    app: FastAPI, console: TestClient, make_token: MakeToken
) -> None:
    make_token(name="kept")
    for token in ("", "forged"):
        made = console.post(
            "/console/api-tokens",
            data={"name": "sneaky", "scopes": ["audit:read"], "csrf_token": token},
        )
        assert made.status_code == 403
        revoked = console.post("/console/api-tokens/kept/revoke", data={"csrf_token": token})
        assert revoked.status_code == 403
    with app.state.vendor.session() as session:
        rows = {r.name: r for r in session.scalars(select(ApiToken))}
    assert set(rows) == {"kept"}
    assert rows["kept"].revoked_at is None
