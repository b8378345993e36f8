"""A new contract from the console under a customer name that already has one: the new
contract gets its own contact (and language), the other contract keeps its own; a bad
address is refused at the form."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import CUSTOMER, token, vendor_of

from cssec.vendor_service import services
from cssec.vendor_service.models import Contract


def _contacts(app: FastAPI) -> dict[int, tuple[str | None, str]]:
    with vendor_of(app).session() as session:
        return {
            c.id: (c.contact_email, c.contact_language) for c in session.scalars(select(Contract))
        }


def test_a_new_contract_under_a_known_name_has_its_own_contact(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        services.change_contact(
            session,
            contract.contract_id,
            contact_email="first@sample.example",
            language="ja",
            actor="test",
        )
    url = "/console/contracts/new"
    form = {
        "csrf_token": token(admin, url),
        "customer": CUSTOMER,
        "seats": "3",
        "months": "12",
        "start": "2027-01-01",
        "contact_email": " second@sample.example ",
        "language": "en",
    }
    bad = admin.post(url, data={**form, "contact_email": "not an address"})
    assert bad.status_code == 422
    assert 'data-testid="error-contact"' in bad.text
    confirm = admin.post(url, data=form)
    assert 'data-testid="confirm-contact"' in confirm.text
    assert "second@sample.example" in confirm.text
    assert "連絡先とポータルのアクセスは契約ごとに別です" in confirm.text
    done = admin.post(url, data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    new_id = int(done.headers["location"].rsplit("/", 1)[1])
    assert _contacts(app) == {
        contract.contract_id: ("first@sample.example", "ja"),
        new_id: ("second@sample.example", "en"),
    }
    page = admin.get(f"/console/contracts/{new_id}").text
    assert "second@sample.example" in page
    assert "first@sample.example" not in page
