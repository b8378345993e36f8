"""Renewal by file from the portal: the customer uploads a server's signed request file and
downloads the vendor-signed response (the service the console and the CLI use), for their
own codes only."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.portal.conftest import CONTACT, csrf_of, vendor_of

from cssec.core.clock import FakeClock
from cssec.core.license_files import RequestedCode, build_request, parse_response
from cssec.core.signing import SigningKey
from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry, StatusCheck


def _request_file(code: str, clock: FakeClock) -> bytes:
    data, _digest = build_request(
        SigningKey.generate(),
        server_id="server-air-gapped",
        codes=[RequestedCode(code[:2].replace("DC", "DCS"), code.replace("-", ""))],
        seats_used=7,
        nonce="N" * 24,
        created_at=clock.now(),
    )
    return data


def _upload(customer: TestClient, contract_id: int, data: bytes, token: str | None = None):
    page = f"/portal/contracts/{contract_id}/license-file"
    csrf = token if token is not None else csrf_of(customer.get(page).text)
    files = {"request_file": ("REQ.json", data, "application/json")}
    return customer.post(page, data={"csrf_token": csrf}, files=files)


def test_the_customer_answers_their_own_request_file(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract, clock: FakeClock
) -> None:
    with vendor_of(app).session() as session:
        renewed = services.renew_contract(session, contract.contract_id, months=12, actor="x")
    data = _request_file(contract.codes["CS"], clock)
    assert _upload(customer, contract.contract_id, data, token="forged").status_code == 403
    answered = _upload(customer, contract.contract_id, data)
    assert answered.status_code == 200, answered.text
    assert answered.headers["content-disposition"].startswith("attachment;")
    response = parse_response(answered.content)
    assert response.server_id == "server-air-gapped"
    assert response.statements[0]["statement"]["contract_end"] == renewed.end.isoformat()
    with vendor_of(app).session() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "license.offline_responded")
        )
        assert entry is not None
        assert entry.actor == f"portal:{CONTACT}"
        assert session.scalar(select(StatusCheck.seats_used)) == 7


def test_another_customers_code_or_a_broken_file_is_refused(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract,
    other_contract: services.IssuedContract, clock: FakeClock,
) -> None:  # fmt: skip
    theirs = _upload(
        customer, contract.contract_id, _request_file(other_contract.codes["CS"], clock)
    )
    assert theirs.status_code == 403
    assert 'data-testid="license-file-error"' in theirs.text
    broken = _upload(customer, contract.contract_id, b'{"not": "a request"}')
    assert broken.status_code == 400
    assert "更新要求ファイル" in broken.text
    with vendor_of(app).session() as session:
        assert session.scalars(select(StatusCheck)).all() == []
    page = f"/portal/contracts/{other_contract.contract_id}/license-file"
    assert customer.get(page).status_code == 404
