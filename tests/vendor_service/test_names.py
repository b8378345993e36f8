"""Customer (company) names and user names are refused with control characters or
bidirectional overrides at every entry point of the vendor: the JSON API, the services
the console and the CLI call, and the CLI itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from cssec.core.names import InvalidName
from cssec.vendor_service import services
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.models import Customer, Registration, User
from cssec.vendor_service.runtime import Vendor

SPOOFED = "株式会社\u202eルプンサ"


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def test_the_api_refuses_a_company_name_with_a_bidi_override(
    app: FastAPI, client: TestClient
) -> None:
    with _vendor(app).session() as session:
        issued = services.issue_contract(session, customer="株式会社サンプル", seats=5, actor="t")
    body = {
        "registration_key": issued.registration_key,
        "company": SPOOFED,
        "contact_email": "it@example.co.jp",
        "server_id": "srv-0001",
    }
    ja = client.post("/api/v1/registrations", json=body)
    en = client.post(
        "/api/v1/registrations",
        json={**body, "company": "Sample\x00Corp"},
        headers={"Accept-Language": "en"},
    )
    assert ja.status_code == en.status_code == 422
    assert ja.json()["code"] == en.json()["code"] == "invalid_name"
    assert ja.json()["field"] == "company"
    assert "会社名" in ja.json()["message"]
    assert "U+202E" in ja.json()["message"]
    assert "company name" in en.json()["message"]
    assert "U+0000" in en.json()["message"]
    with _vendor(app).session() as session:
        assert session.scalar(select(func.count(Registration.id))) == 0
        with pytest.raises(InvalidName):
            services.register_server(
                session,
                issued.registration_key,
                company=SPOOFED,
                contact_email="it@example.co.jp",
                server_id="srv-0001",
                actor="t",
            )


def test_services_refuse_customer_and_user_names(app: FastAPI) -> None:
    with _vendor(app).session() as session:
        for customer in (SPOOFED, "A\u2067B", "tab\there", "del\x7f", "c1\x9b"):
            with pytest.raises(InvalidName) as refused:
                services.issue_contract(session, customer=customer, seats=5, actor="t")
            assert refused.value.fields["field"] == "customer"
        with pytest.raises(InvalidName) as refused:
            services.add_user(session, name="ad\u202emin", password="x" * 12, actor="t")
        assert "ユーザー名" in refused.value.message("ja")
        assert session.scalar(select(func.count(Customer.id))) == 0
        assert session.scalar(select(func.count(User.id))) == 0


def test_the_cli_refuses_them_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    data = str(tmp_path / "vendor")
    runner = CliRunner()
    contract = runner.invoke(
        cli_app, ["contract", "new", "--customer", SPOOFED, "--seats", "5", "--data", data]
    )
    assert contract.exit_code == 1
    assert contract.stdout == ""
    assert contract.stderr.strip().startswith("error: invalid_name: The customer name contains")
    assert "U+202E" in contract.stderr
    password = tmp_path / "pw"
    password.write_text("correct horse battery\n")
    user = runner.invoke(
        cli_app,
        ["user", "add", "ad\u2066min", "--password-file", str(password), "--data", data],
    )
    assert user.exit_code == 1
    assert "user name" in user.stderr
    assert len(user.stderr.strip().splitlines()) == 1
