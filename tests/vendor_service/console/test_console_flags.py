"""The contract page tells the support desk what is wrong: a code used by a server registered
with another contract, and a contract whose codes are all revoked (with the refused checks)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import CUSTOMER, vendor_of

from cssec.core.errors import RevokedActivationCode
from cssec.vendor_service import services


def _register(app: FastAPI, key: str, server_id: str) -> None:
    with vendor_of(app).session() as session:
        services.register_server(
            session, key, company=CUSTOMER, contact_email="it@example.co.jp",
            server_id=server_id, actor="api",
        )  # fmt: skip


def _check(app: FastAPI, code: str, server_id: str) -> None:
    with vendor_of(app).session() as session:
        services.issue_status_statement(session, code, server_id=server_id)


def test_a_code_checked_by_another_contracts_server_is_flagged(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        other = services.issue_contract(session, customer="株式会社よそ", seats=10, actor="test")
    _register(app, contract.registration_key, "srv-home")
    _check(app, contract.codes["CS"], "srv-home")
    _check(app, other.codes["CS"], "srv-home")  # the other contract's code on our server

    page = admin.get(f"/console/contracts/{other.contract_id}").text
    assert 'data-flag="other-contract"' in page
    assert "別の契約で登録済み" in page
    assert f"/console/contracts/{contract.contract_id}" in page
    assert 'data-testid="other-contract-note"' in page
    own = admin.get(f"/console/contracts/{contract.contract_id}").text
    assert 'data-flag="other-contract"' not in own, "its own server is not flagged"


def test_revoked_contract_shows_revoked_and_the_refused_check(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    for code in contract.codes.values():
        with vendor_of(app).session() as session:
            services.revoke_code(session, code, actor="test", reason="test")
    with pytest.raises(RevokedActivationCode):
        _check(app, contract.codes["CS"], "srv-0001")

    page = admin.get(f"/console/contracts/{contract.contract_id}")
    assert page.status_code == 200
    assert 'data-testid="contract-state" data-state="revoked"' in page.text
    head = page.text.split('data-testid="contract-state"')[1].split("</p>")[0]
    assert "失効" in head
    assert "残り" not in head
    assert "days left" not in head
    checks = page.text.split("ステータス確認")[1]
    assert '<tr data-state="revoked"' in checks
    assert "拒否: コードは失効しています" in checks

    english = admin.get(
        f"/console/contracts/{contract.contract_id}", headers={"Accept-Language": "en"}
    )
    assert "Revoked" in english.text
