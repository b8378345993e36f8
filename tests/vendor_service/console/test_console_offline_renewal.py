"""The console's renewal by file: upload a server's request, download the signed answer
(CSRF-checked, audited under the staff member's name, recorded as a status check)."""

from __future__ import annotations

import json

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import token, vendor_of

from cssec.core.clock import FakeClock
from cssec.core.license_files import RequestedCode, build_request, parse_response
from cssec.core.signing import SigningKey
from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry, StatusCheck


def _request_file(contract: services.IssuedContract, clock: FakeClock) -> bytes:
    code = contract.codes["CS"].replace("-", "")
    data, _digest = build_request(
        SigningKey.generate(),
        server_id="server-air-gapped",
        codes=[RequestedCode("CS", code)],
        seats_used=7,
        nonce="N" * 24,
        created_at=clock.now(),
    )
    return data


def test_staff_answer_a_request_file(
    app: FastAPI, staff: TestClient, contract: services.IssuedContract, clock: FakeClock
) -> None:
    page = staff.get("/console/offline-renewal")
    assert page.status_code == 200
    assert "更新要求ファイル" in page.text
    files = {"request_file": ("REQ.json", _request_file(contract, clock), "application/json")}

    forged = staff.post("/console/offline-renewal", data={"csrf_token": "x"}, files=files)
    assert forged.status_code == 403
    with vendor_of(app).session() as session:
        assert session.scalars(select(StatusCheck)).all() == []

    answered = staff.post(
        "/console/offline-renewal",
        data={"csrf_token": token(staff, "/console/offline-renewal")},
        files=files,
    )
    assert answered.status_code == 200, answered.text
    assert "attachment" in answered.headers["content-disposition"]
    response = parse_response(answered.content)
    assert response.server_id == "server-air-gapped"
    [statement] = response.statements
    assert statement["statement"]["nonce"] == "N" * 24
    assert statement["statement"]["request_sha256"] == response.request_sha256
    with vendor_of(app).session() as session:
        [check] = session.scalars(select(StatusCheck)).all()
        assert (check.server_id, check.seats_used) == ("server-air-gapped", 7)
        [audit] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "license.offline_responded")
        ).all()
        assert audit.actor == "console:bob"
        assert audit.target == "server:server-air-gapped"


def test_a_bad_file_is_explained_on_the_page(
    staff: TestClient, contract: services.IssuedContract, clock: FakeClock
) -> None:
    body = json.loads(_request_file(contract, clock))
    body["statement"]["seats_used"] = 1
    files = {"request_file": ("REQ.json", json.dumps(body).encode(), "application/json")}
    refused = staff.post(
        "/console/offline-renewal",
        data={"csrf_token": token(staff, "/console/offline-renewal")},
        files=files,
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    assert "could not be used (its signature does not verify)" in refused.text
    assert "bad_signature" not in refused.text
