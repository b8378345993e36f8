"""Done-when of the admin API: a whole contract life through /api/v1/admin/ alone, with a
scoped token (create, a server registers, renew, reissue, revoke after its preview, read the
audit), the same state seen in the console, and every call refused to a token that lacks
exactly the scope it needs; expired and revoked tokens, the console's cookie on the API and
a token on the console are refused."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.admin.conftest import MakeToken, bearer

from cssec.core.clock import FakeClock
from cssec.vendor_service.console import SESSION_COOKIE
from cssec.vendor_service.services.tokens import SCOPES

API = "/api/v1/admin"
LIFE_SCOPES = [
    "contracts:read",
    "contracts:write",
    "codes:read",
    "codes:write",
    "codes:revoke",
    "audit:read",
]
SERVER = "5b0e6c1a-2f3d-4c5e-8a9b-0c1d2e3f4a5b"


class Caller:
    """Each call first made with a token holding every scope but the one it needs (403
    insufficient_scope naming that scope), then with the life's token."""

    def __init__(self, app: FastAPI, make_token: MakeToken, token: str) -> None:
        self.client = TestClient(app, raise_server_exceptions=False)
        self.make_token = make_token
        self.token = token
        self.refused: list[str] = []

    def call(self, scope: str, method: str, path: str, **kwargs: Any) -> Any:
        lacking = self.make_token(
            name=f"lacks-{scope.replace(':', '-')}-{len(self.refused)}",
            scopes=[s for s in SCOPES if s != scope],
        )
        headers = kwargs.pop("headers", {})
        refused = self.client.request(
            method, API + path, headers={**headers, **bearer(lacking)}, **kwargs
        )
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["code"] == "insufficient_scope"
        assert refused.json()["scope"] == scope
        self.refused.append(f"{method} {path}")
        return self.client.request(
            method, API + path, headers={**headers, **bearer(self.token)}, **kwargs
        )


def test_a_contract_life_through_the_admin_api(
    app: FastAPI, make_token: MakeToken, console: TestClient, clock: FakeClock
) -> None:
    api = Caller(app, make_token, make_token(name="billing", scopes=LIFE_SCOPES))

    # Create (idempotent: the retry gets the first answer, nothing is issued twice).
    body = {"customer": "株式会社ライフ", "seats": 10, "with_dcs": True,
            "contact_email": "it@life.example.jp", "language": "ja"}  # fmt: skip
    created = api.call(
        "contracts:write", "POST", "/contracts", json=body, headers={"Idempotency-Key": "life-1"}
    )
    assert created.status_code == 201, created.text
    contract = created.json()
    contract_id = contract["id"]
    assert created.headers["ETag"] == contract["etag"]
    assert created.headers["Location"] == f"{API}/contracts/{contract_id}"
    assert contract["products"] == ["CS", "DCS"]
    assert contract["contact"] == {"email": "it@life.example.jp", "language": "ja"}
    first_cs = next(c for c in contract["codes"] if c["product"] == "CS")["activation_code"]
    again = api.client.post(
        f"{API}/contracts", json=body, headers={"Idempotency-Key": "life-1", **bearer(api.token)}
    )
    assert again.status_code == 201
    assert again.json() == contract
    assert again.headers["Idempotent-Replayed"] == "true"

    # A server registers against it, as servers do.
    registered = api.client.post(
        "/api/v1/registrations",
        json={"registration_key": contract["registration_key"], "company": "株式会社ライフ",
              "contact_email": "it@life.example.jp", "server_id": SERVER},
    )  # fmt: skip
    assert registered.status_code == 200, registered.text
    handed = {c["product"]: c["activation_code"] for c in registered.json()["activation_codes"]}
    assert handed["CS"] == first_cs

    # Read and list; renew needs the ETag it read.
    read = api.call("contracts:read", "GET", f"/contracts/{contract_id}")
    assert read.status_code == 200
    etag = read.headers["ETag"]
    found = api.call(
        "contracts:read", "GET", "/contracts", params={"q": contract["registration_key"]}
    )
    assert [c["id"] for c in found.json()["items"]] == [contract_id]
    missing = api.client.post(
        f"{API}/contracts/{contract_id}/renew", json={"months": 12}, headers=bearer(api.token)
    )
    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition_required"
    renewed = api.call(
        "contracts:write", "POST", f"/contracts/{contract_id}/renew",
        json={"months": 12}, headers={"If-Match": etag},
    )  # fmt: skip
    assert renewed.status_code == 200, renewed.text
    previous_end = date.fromisoformat(contract["ends_on"])
    new_end = date.fromisoformat(renewed.json()["ends_on"])
    assert new_end.year == previous_end.year + 1
    assert renewed.headers["ETag"] != etag
    stale = api.client.post(
        f"{API}/contracts/{contract_id}/renew",
        json={"months": 12},
        headers={"If-Match": etag, **bearer(api.token)},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"

    # Reissue for an offline site: a new CS code with the new end; the old one is replaced.
    reissued = api.call(
        "codes:write", "POST", f"/contracts/{contract_id}/codes", json={"product": "CS"}
    )
    assert reissued.status_code == 201, reissued.text
    new_cs = reissued.json()["activation_code"]
    assert new_cs != first_cs
    inspected = api.call("codes:read", "GET", f"/codes/{new_cs}")
    assert inspected.json()["verdict"] == "valid"
    assert inspected.json()["expires_on"] == new_end.isoformat()

    # Revoke the new code: the preview names it and the code it superseded; the revoke
    # changes exactly that; the vendor then answers the server's status check "revoked".
    preview = api.call("codes:read", "GET", f"/codes/{new_cs}/revocation-preview")
    assert preview.status_code == 200, preview.text
    assert set(preview.json()["to_revoke"]) == {new_cs, first_cs}
    assert [c["is_target"] for c in preview.json()["codes"]][-1] is True
    revoked = api.call(
        "codes:revoke", "POST", f"/codes/{new_cs}/revoke", json={"reason": "chargeback"}
    )
    assert revoked.status_code == 200, revoked.text
    assert set(revoked.json()["revoked"]) == {new_cs, first_cs}
    assert revoked.json()["preview"]["to_revoke"] == []
    status = api.client.post(
        "/api/v1/status", json={"activation_code": first_cs, "server_id": SERVER}
    )
    assert status.json()["code"] == "revoked_activation_code"

    # The audit: every change, by the token's name.
    audit = api.call("audit:read", "GET", "/audit", params={"actor": "token:billing", "limit": 200})
    actions = [(e["action"], e["target"]) for e in audit.json()["items"]]
    assert ("contract.created", f"contract:{contract_id}") in actions
    assert ("contract.renewed", f"contract:{contract_id}") in actions
    assert ("code.reissued", f"contract:{contract_id}") in actions
    assert sum(a == "code.revoked" for a, _t in actions) == 2
    assert sum(a == "contract.created" for a, _t in actions) == 1  # the retry issued nothing
    assert ("api.read", f"{API}/contracts/{contract_id}") in actions  # reads too
    refusals = api.client.get(
        f"{API}/audit", params={"action": "api.refused", "limit": 200}, headers=bearer(api.token)
    ).json()["items"]
    assert len(refusals) == len(api.refused)
    assert all(e["actor"].startswith("token:lacks-") for e in refusals)

    # The console shows the same state: the new end, the key, both codes, and the API's
    # audit entries (each row links to its entry; the entry names the token).
    entry_of = {e["action"]: e["id"] for e in audit.json()["items"]}
    page = console.get(f"/console/contracts/{contract_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert new_end.isoformat() in text
    assert contract["registration_key"] in text
    for code in (first_cs, new_cs):
        assert code in text
    for action in ("contract.created", "contract.renewed", "code.reissued"):
        assert f'href="/console/audit/{entry_of[action]}"' in text, action
    audit_page = console.get("/console/audit", params={"actor": "token:billing"}).text
    for action in ("contract.renewed", "code.revoked"):
        assert f'href="/console/audit/{entry_of[action]}"' in audit_page, action
    entry = html.unescape(console.get(f"/console/audit/{entry_of['contract.renewed']}").text)
    assert "billing" in entry
    assert new_end.isoformat() in entry

    assert len(api.refused) == 9


def test_tokens_are_refused_when_expired_or_revoked(
    app: FastAPI, make_token: MakeToken, clock: FakeClock
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    short = make_token(name="short", scopes=["contracts:read"], days=1)
    assert client.get(f"{API}/contracts", headers=bearer(short)).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    expired = client.get(f"{API}/contracts", headers=bearer(short))
    assert expired.status_code == 401
    assert expired.json()["code"] == "api_token_expired"
    assert expired.json()["name"] == "short"

    kept = make_token(name="kept", scopes=["contracts:read"])
    from cssec.vendor_service.services.tokens import revoke_token  # noqa: PLC0415

    with app.state.vendor.session() as session:
        revoke_token(session, "kept", actor="cli:test")
    gone = client.get(f"{API}/contracts", headers=bearer(kept))
    assert gone.status_code == 401
    assert gone.json()["code"] == "api_token_revoked"

    forged = client.get(f"{API}/contracts", headers=bearer("cssec_" + "A" * 43))
    assert forged.status_code == 401
    assert forged.json()["code"] == "invalid_api_token"
    none = client.get(f"{API}/contracts")
    assert none.status_code == 401
    assert none.json()["code"] == "api_token_required"


def test_cookies_never_work_on_the_api_nor_tokens_on_the_console(
    app: FastAPI, make_token: MakeToken, console: TestClient
) -> None:
    cookie = console.cookies.get(SESSION_COOKIE)
    assert cookie, "the console client is signed in"
    assert console.get("/console/").status_code == 200
    outsider = TestClient(app, raise_server_exceptions=False)
    on_api = outsider.get(f"{API}/contracts", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert on_api.status_code == 401
    assert on_api.json()["code"] == "api_token_required"

    token = make_token(name="scripts")
    on_console = outsider.get("/console/", headers=bearer(token), follow_redirects=False)
    assert on_console.status_code == 303
    assert "/console/login" in on_console.headers["location"]
    tokens_page = outsider.get("/console/api-tokens", headers=bearer(token), follow_redirects=False)
    assert tokens_page.status_code == 303
