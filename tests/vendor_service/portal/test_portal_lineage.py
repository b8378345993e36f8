"""Portal-issued codes join the contract product's lineage (issue 21, reproduction 2: "the
portal lets a customer issue a second live code after each renewal"): revoking the newest
revokes every code before it, revoking an older one leaves the newer ones live."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.portal.conftest import csrf_of, vendor_of

from cssec.vendor_service import services


def _portal_code(app: FastAPI, customer: TestClient, contract: services.IssuedContract) -> str:
    """Renew at the desk, then take the new CS code in the portal (as an offline site does)."""
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="console:alice")
    page = f"/portal/contracts/{contract.contract_id}"
    answer = customer.post(
        f"{page}/offline-code",
        data={"product": "CS", "csrf_token": csrf_of(customer.get(page).text)},
    )
    assert answer.status_code == 200
    found = re.search(r'data-testid="flash-code">([^<]+)<', answer.text)
    assert found, answer.text
    return found.group(1)


def _status(client: TestClient, code: str) -> tuple[int, str | None]:
    response = client.post("/api/v1/status", json={"activation_code": code, "server_id": "srv-1"})
    return response.status_code, response.json().get("code")


def test_portal_codes_are_covered_by_a_newer_codes_revocation(
    app: FastAPI, client: TestClient, customer: TestClient, contract: services.IssuedContract
) -> None:
    first = contract.codes["CS"]
    second = _portal_code(app, customer, contract)
    third = _portal_code(app, customer, contract)
    # Both older codes stay live online after each portal issue: the normal case.
    assert [_status(client, c)[0] for c in (first, second, third)] == [200, 200, 200]
    with vendor_of(app).session() as session:
        row = services.find_activation_code(session, third)[1]
        assert [services.formatted_code(r) for r in services.lineage_of(session, row)] == [
            first,
            second,
            third,
        ]
        preview = services.revocation_preview(session, second)
        assert [c.code for c in preview.codes] == [first, second]
        services.revoke_code(session, second, actor="console:alice", reason="漏えい")
    assert _status(client, first) == (403, "revoked_activation_code")
    assert _status(client, second) == (403, "revoked_activation_code")
    assert _status(client, third)[0] == 200
    with vendor_of(app).session() as session:
        services.revoke_code(session, third, actor="console:alice", reason="解約")
    assert _status(client, third) == (403, "revoked_activation_code")
