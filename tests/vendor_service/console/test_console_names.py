"""The console's new-contract form refuses a customer name with a bidirectional override
or a control character, at the field, before anything is stored."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import token, vendor_of

from cssec.vendor_service.models import Contract


def test_new_contract_refuses_a_spoofing_customer_name(app: FastAPI, admin: TestClient) -> None:
    url = "/console/contracts/new"
    form = {
        "csrf_token": token(admin, url),
        "customer": "株式会社\u202eルプンサ",
        "seats": "10",
        "months": "12",
        "start": "2027-01-01",
        "confirm": "yes",
    }
    refused = admin.post(url, data=form)
    assert refused.status_code == 422
    assert "顧客名に使用できない文字 (U+202E)が含まれています" in refused.text
    english = admin.post(
        url, data={**form, "customer": "Sample\x1bCorp"}, headers={"Accept-Language": "en"}
    )
    assert english.status_code == 422
    assert "The customer name contains a character that is not allowed (U+001B)" in (english.text)
    with vendor_of(app).session() as session:
        assert session.scalar(select(func.count(Contract.id))) == 0
