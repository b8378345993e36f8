"""What a signed-in customer sees and does: the contract page (codes, seats and usage,
status checks, the support desk's audit) and the offline renewal without a phone call."""

from __future__ import annotations

import re

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.portal.conftest import CONTACT, csrf_of, vendor_of

from cssec.core.codes import parse_activation_code
from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry


def _page(customer: TestClient, contract: services.IssuedContract) -> str:
    response = customer.get(f"/portal/contracts/{contract.contract_id}")
    assert response.status_code == 200
    return response.text


def _offline_code(customer: TestClient, contract: services.IssuedContract, product: str = "CS"):
    page = f"/portal/contracts/{contract.contract_id}"
    return customer.post(
        f"{page}/offline-code",
        data={"product": product, "csrf_token": csrf_of(customer.get(page).text)},
    )


def test_the_contract_page_shows_codes_seats_usage_checks_and_the_desk_audit(
    app: FastAPI, client: TestClient, customer: TestClient, contract: services.IssuedContract
) -> None:
    for server, used in (("srv-tokyo", 12), ("srv-osaka", 31)):
        status = client.post(
            "/api/v1/status",
            json={"activation_code": contract.codes["CS"], "server_id": server, "seats_used": used},
        )
        assert status.status_code == 200, status.text
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="console:alice")
    with vendor_of(app).session() as session:
        services.change_contact(
            session, contract.contract_id, contact_email=CONTACT, language="en", actor="test"
        )
    html = _page(customer, contract)
    assert contract.codes["CS"] in html
    assert contract.codes["DCS"] in html
    assert 'data-testid="seats">25<' in html
    assert 'data-server="srv-osaka" class="over"' in html  # 31 of 25 seats
    assert re.search(r'data-testid="status-checks".*srv-tokyo', html, re.S)
    audit = html.split('data-testid="contract-audit"', 1)[1]
    assert 'data-action="contract.renewed"' in audit
    assert "法人お問合せ窓口" in audit  # the desk, not the staff member's name
    assert "alice" not in audit
    assert "通知の連絡先変更" in audit  # named, not 「その他の変更」
    assert "その他の変更" not in audit
    assert 'data-testid="grace-end"' in html


def test_before_a_renewal_there_is_nothing_to_renew(
    customer: TestClient, contract: services.IssuedContract
) -> None:
    assert 'data-testid="renewal"' not in _page(customer, contract)
    refused = _offline_code(customer, contract)
    assert "すでに契約の終了日" in refused.text
    assert contract.codes["CS"] in refused.text


def test_after_a_renewal_the_customer_takes_the_new_code_alone(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        renewed = services.renew_contract(
            session, contract.contract_id, months=12, actor="console:alice"
        )
    html = _page(customer, contract)
    assert 'data-testid="renewal"' in html
    assert 'data-testid="offline-code-CS"' in html
    assert 'data-testid="offline-code-DCS"' in html
    answer = _offline_code(customer, contract)
    assert answer.status_code == 200
    found = re.search(r'data-testid="flash-code">([^<]+)<', answer.text)
    assert found, answer.text
    new_code = found.group(1)
    assert new_code != contract.codes["CS"]
    assert (parsed := parse_activation_code(new_code).value) is not None
    assert parsed.expires_on == renewed.end
    # The same service as the console's reissue, audited as done by the customer.
    with vendor_of(app).session() as session:
        entry = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "code.reissued")
            .order_by(AuditEntry.id.desc())
        )
        assert entry is not None
        assert entry.actor == f"portal:{CONTACT}"
        assert entry.after is not None
        assert entry.after["code"] == new_code
    # CS is done (its button gone), DCS still offered; asking again changes nothing.
    html = _page(customer, contract)
    assert 'data-testid="offline-code-CS"' not in html
    assert 'data-testid="offline-code-DCS"' in html
    assert "すでに契約の終了日" in _offline_code(customer, contract).text
    # The download carries the new code.
    code_id = re.search(r'/codes/(\d+)\.txt" download data-testid="download-CS"', html)
    assert code_id
    download = customer.get(
        f"/portal/contracts/{contract.contract_id}/codes/{code_id.group(1)}.txt"
    )
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert new_code in download.text
    assert renewed.end.isoformat() in download.text


def test_a_revoked_code_is_not_replaced_by_the_customer(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="console:alice")
    with vendor_of(app).session() as session:
        services.revoke_code(session, contract.codes["CS"], actor="console:alice", reason="leaked")
    refused = _offline_code(customer, contract)
    assert "失効" in refused.text
    assert 'data-testid="flash-code"' not in refused.text


def test_only_current_codes_of_the_customer_download(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract,
    other_contract: services.IssuedContract,
) -> None:  # fmt: skip
    with vendor_of(app).session() as session:
        other = services.get_contract(session, other_contract.contract_id)
        other_code_id = other.activation_codes[0].id
    url = f"/portal/contracts/{contract.contract_id}/codes/{other_code_id}.txt"
    assert customer.get(url).status_code == 404
