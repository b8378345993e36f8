"""The JSON API on both databases: registration, status, keys, errors, limits."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.core.codes import MacKey, encode_activation_code, encode_registration_key
from cssec.core.license import Product
from cssec.core.signing import VerifyingKey, follow_endorsements, verify_statement
from cssec.vendor_service import services
from cssec.vendor_service.app import create_app
from cssec.vendor_service.keyring import RECHECK_SECONDS, Keyring
from cssec.vendor_service.runtime import Vendor

SERVER = "srv-0001"


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _issue(app: FastAPI, **kwargs: Any) -> services.IssuedContract:
    options: dict[str, Any] = {"customer": "株式会社サンプル", "seats": 25, "actor": "test"}
    options.update(kwargs)
    with _vendor(app).session() as session:
        return services.issue_contract(session, **options)


def _register(client: TestClient, key: str, server_id: str = SERVER, **headers: str) -> Any:
    body = {
        "registration_key": key,
        "company": "株式会社サンプル",
        "contact_email": "it@example.co.jp",
        "server_id": server_id,
    }
    return client.post("/api/v1/registrations", json=body, headers=headers)


def _status(client: TestClient, code: str, server_id: str = SERVER, **headers: str) -> Any:
    body = {"activation_code": code, "server_id": server_id}
    return client.post("/api/v1/status", json=body, headers=headers)


def _keys(client: TestClient) -> dict[str, VerifyingKey]:
    jwks = client.get("/api/v1/keys").json()["keys"]
    return {k["kid"]: VerifyingKey.from_jwk(k) for k in jwks}


def test_health(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_registration_returns_the_contracts_codes_idempotently(
    app: FastAPI, client: TestClient
) -> None:
    issued = _issue(app, with_dcs=True)
    first = _register(client, issued.registration_key)
    assert first.status_code == 200
    codes = first.json()["activation_codes"]
    assert [c["product"] for c in codes] == ["CS", "DCS"]
    assert {c["product"]: c["activation_code"] for c in codes} == issued.codes
    assert all(c["expires_on"] == issued.end.isoformat() for c in codes)
    # Forgiving input: lower case, full-width, no hyphens.
    typed = "\t" + issued.registration_key.replace("-", "").lower() + "\n"
    again = _register(client, typed)
    assert again.json() == first.json()
    other_server = _register(client, issued.registration_key, server_id="srv-0002")
    assert other_server.json() == first.json()
    with _vendor(app).session() as session:
        actions = [e.action for e in services.list_audit(session)]
    assert actions.count("registration.created") == 2


def test_registration_after_renewal_hands_out_the_new_end(app: FastAPI, client: TestClient) -> None:
    issued = _issue(app, start=date(2026, 1, 1))
    with _vendor(app).session() as session:
        services.renew_contract(session, issued.registration_key, actor="t")
    body = _register(client, issued.registration_key).json()
    assert body["activation_codes"][0]["expires_on"] == "2027-12-31"
    assert body["activation_codes"][0]["activation_code"] != issued.codes["CS"]
    assert _register(client, issued.registration_key).json() == body


def test_registration_never_returns_a_revoked_code(app: FastAPI, client: TestClient) -> None:
    issued = _issue(app, with_dcs=True)
    with _vendor(app).session() as session:
        services.revoke_code(session, issued.codes["CS"], actor="t")
    body = _register(client, issued.registration_key).json()
    assert [c["product"] for c in body["activation_codes"]] == ["DCS"]
    with _vendor(app).session() as session:
        new = services.issue_replacement_code(
            session, issued.registration_key, actor="t", lift_revocation=True
        )
    body = _register(client, issued.registration_key).json()
    assert body["activation_codes"][0] == {
        "product": "CS",
        "activation_code": new,
        "expires_on": issued.end.isoformat(),
    }
    with _vendor(app).session() as session:
        services.revoke_code(session, new, actor="t")
        services.revoke_code(session, issued.codes["DCS"], actor="t")
    refused = _register(client, issued.registration_key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "revoked_activation_code"


def test_registration_key_errors_do_not_reveal_which_keys_exist(
    app: FastAPI, client: TestClient
) -> None:
    issued = _issue(app)
    key = issued.registration_key
    typo = _register(
        client, key[:-1] + ("0" if key[-1] != "0" else "1"), **{"accept-language": "en"}
    )
    assert typo.status_code == 400
    assert typo.json()["code"] == "invalid_registration_key"
    assert typo.json()["reason"] == "check_failed"
    garbage = _register(client, "hello")
    assert garbage.status_code == 400
    assert garbage.json()["code"] == "invalid_registration_key"
    vendor = _vendor(app)
    forged = encode_registration_key(
        serial=5, key=MacKey(vendor.keyring.current_mac_key.kid, b"f" * 32)
    )
    unissued = encode_registration_key(serial=5000, key=vendor.keyring.current_mac_key)
    a = _register(client, forged.formatted)
    b = _register(client, unissued.formatted)
    assert a.status_code == b.status_code == 404
    assert (
        a.json()
        == b.json()
        == {
            "code": "unknown_registration_key",
            "message": a.json()["message"],
        }
    )
    assert "レジストレーションキー" in a.json()["message"]


def test_status_statement_is_signed_and_verifies(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    issued = _issue(app, start=date(2026, 1, 1), seats=7)
    response = _status(client, issued.codes["CS"])
    assert response.status_code == 200
    envelope = response.json()
    check = verify_statement(envelope, _keys(client))
    assert check.ok, check.reason
    statement = envelope["statement"]
    assert statement == {
        "v": 1,
        "activation_code": issued.codes["CS"].replace("-", ""),
        "server_id": SERVER,
        "product": "CS",
        "version_type": "full",
        "state": "activated",
        "contract_end": "2026-12-31",
        "grace_days": 30,
        "grace_end": "2027-01-30",
        "seats": 7,
        "customer": "株式会社サンプル",
        "contract_id": issued.contract_id,
        "issued_at": "2026-11-27T20:00:00Z",
    }
    assert envelope["alg"] == "ed25519"
    assert envelope["kid"] == _vendor(app).keyring.signing_key.kid


def test_status_echoes_the_servers_nonce_inside_the_signature(
    app: FastAPI, client: TestClient
) -> None:
    """A server tells a fresh answer from a replayed one by its own nonce, inside what the
    vendor signs; a nonce that is not one is refused before anything is read."""
    issued = _issue(app)
    nonce = "Zm9vYmFyLW5vbmNlLTAxMjM0NQ"
    body = {"activation_code": issued.codes["CS"], "server_id": SERVER, "nonce": nonce}
    answer = client.post("/api/v1/status", json=body)
    assert answer.status_code == 200
    check = verify_statement(answer.json(), _keys(client))
    assert check.ok
    assert check.statement is not None
    assert check.statement["nonce"] == nonce
    for bad in ("short", "has spaces in it, so no", "x" * 129):
        refused = client.post("/api/v1/status", json={**body, "nonce": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["code"] == "validation_error"
    with _vendor(app).session() as session:
        services.revoke_code(session, issued.codes["CS"], actor="t")
    revoked = client.post("/api/v1/status", json=body)
    assert revoked.status_code == 403
    proof = verify_statement(revoked.json()["revocation"], _keys(client))
    assert proof.ok
    assert proof.statement is not None
    assert proof.statement["state"] == "revoked"
    assert proof.statement["nonce"] == nonce
    assert proof.statement["server_id"] == SERVER


def test_status_follows_renewal_grace_and_expiry(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    issued = _issue(app, start=date(2026, 1, 1))
    code = issued.codes["CS"]
    clock.set(clock.now().replace(year=2027, month=1, day=15))
    assert _status(client, code).json()["statement"]["state"] == "grace_period"
    clock.advance(timedelta(days=30))
    expired = _status(client, code)
    assert expired.status_code == 200
    assert expired.json()["statement"]["state"] == "expired"
    with _vendor(app).session() as session:
        services.renew_contract(session, code, actor="t")
    renewed = _status(client, code).json()["statement"]
    assert (renewed["state"], renewed["contract_end"]) == ("activated", "2027-12-31")


def test_status_errors(app: FastAPI, client: TestClient) -> None:
    issued = _issue(app)
    code = issued.codes["CS"]
    typo = _status(client, code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert typo.status_code == 400
    assert typo.json()["code"] == "invalid_activation_code"
    assert typo.json()["reason"] == "check_failed"
    forged = encode_activation_code(
        product=Product.CS, seats=25, expires_on=issued.end, serial=1, key=MacKey(1, b"z" * 32)
    )
    unissued = encode_activation_code(
        product=Product.CS, seats=25, expires_on=issued.end, serial=999,
        key=_vendor(app).keyring.current_mac_key,
    )  # fmt: skip
    a, b = _status(client, forged.formatted), _status(client, unissued.formatted)
    assert a.status_code == b.status_code == 400
    # Forged and unissued are answered alike; each carries a signed "invalid" statement
    # bound to its own code (the only difference, with the signature).
    signed_a, signed_b = a.json().pop("refusal"), b.json().pop("refusal")
    body_a, body_b = a.json(), b.json()
    body_a.pop("refusal")
    body_b.pop("refusal")
    assert body_a == body_b
    assert a.json()["reason"] == "mac_failed"
    for signed, sent in ((signed_a, forged), (signed_b, unissued)):
        statement = signed["statement"]
        assert (statement["state"], statement["activation_code"]) == ("invalid", sent.text)
        assert statement["reason"] == "mac_failed"
        assert "contract_id" not in statement
        assert "customer" not in statement
        assert signed["alg"] == "ed25519"
    key_instead = _status(client, issued.registration_key)
    assert key_instead.status_code == 400
    assert key_instead.json()["reason"] == "wrong_kind"
    with _vendor(app).session() as session:
        services.revoke_code(session, code, actor="t", reason="leaked")
    revoked = _status(client, code, **{"accept-language": "en"})
    assert revoked.status_code == 403
    assert revoked.json()["code"] == "revoked_activation_code"
    assert revoked.json()["message"].startswith("This activation code has been revoked")
    assert "leaked" not in revoked.text


def test_key_rotation_keeps_old_codes_and_statements_valid(
    app: FastAPI, client: TestClient
) -> None:
    old = _issue(app)
    before = _keys(client)
    old_envelope = _status(client, old.codes["CS"]).json()
    with _vendor(app).session() as session:
        _mac_kid, signing_kid = services.rotate_keys(session, actor="t")
    after = _keys(client)
    assert next(iter(after)) == signing_kid
    assert set(before) < set(after)
    assert verify_statement(old_envelope, after).ok
    assert _register(client, old.registration_key).status_code == 200
    envelope = _status(client, old.codes["CS"]).json()
    assert envelope["kid"] == signing_kid
    assert verify_statement(envelope, after).ok
    assert not verify_statement(envelope, before).ok
    # ... but a server holding only the old key follows the published endorsement to it.
    endorsements = client.get("/api/v1/keys").json()["endorsements"]
    assert follow_endorsements(before, endorsements) == {signing_kid: after[signing_kid]}
    new = _issue(app)
    assert _status(client, new.codes["CS"]).status_code == 200


def test_rotation_by_another_process_is_picked_up(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    vendor = _vendor(app)
    other = Keyring.open(vendor.keyring.directory)
    _mac, signing_kid = other.rotate()
    clock.advance(timedelta(seconds=RECHECK_SECONDS))  # the key files are rechecked once a second
    assert _status(client, _issue(app).codes["CS"]).json()["kid"] == signing_kid


def test_errors_speak_the_request_language(app: FastAPI, client: TestClient) -> None:
    ja = _register(client, "x")
    en = _register(client, "x", **{"accept-language": "en-US,en;q=0.9"})
    assert ja.json()["code"] == en.json()["code"] == "invalid_registration_key"
    assert "無効なレジストレーションキー" in ja.json()["message"]
    assert en.json()["message"].startswith("Invalid registration key")
    missing = client.post("/api/v1/status", json={}, headers={"accept-language": "en"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_error"
    not_found = client.get("/api/v1/nothing")
    assert not_found.status_code == 404
    assert not_found.json()["code"] == "not_found"


def test_rate_limit_answers_429_with_retry_after(settings: Any, clock: FakeClock) -> None:
    app = create_app(settings.model_copy(update={"status_rate_limit": "2/minute"}), clock=clock)
    try:
        client = TestClient(app)
        codes = [_status(client, "x").status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        limited = _status(client, "x", **{"accept-language": "en"})
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert _register(client, "x").status_code == 400  # a separate bucket
    finally:
        app.state.vendor.close()


def test_an_ipv6_client_cannot_step_around_the_limit_by_changing_its_address(
    settings: Any, clock: FakeClock
) -> None:
    """One host picks its IPv6 addresses from a /64: the limit counts the /64, so fresh
    addresses from it share the count, while another network keeps its own."""
    app = create_app(settings.model_copy(update={"status_rate_limit": "2/minute"}), clock=clock)
    try:

        def status_from(address: str) -> int:
            # No `with`: the app's lifespan (and its PostgreSQL pool) runs once, not per client.
            return int(_status(TestClient(app, client=(address, 40000)), "x").status_code)

        same_network = ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::c"]
        assert [status_from(a) for a in same_network] == [400, 400, 429]
        assert status_from("2001:db8:1:3::a") == 400  # the next /64: somebody else
        assert [status_from(a) for a in ("192.0.2.1", "192.0.2.2")] == [400, 400]
    finally:
        app.state.vendor.close()


def test_body_size_limit(client: TestClient) -> None:
    big = {"activation_code": "x" * 100, "server_id": "s" * 70_000}
    response = client.post("/api/v1/status", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.parametrize(
    "body",
    [
        {"activation_code": "CS", "server_id": "a\x00b"},
        {"activation_code": "\ud800", "server_id": "s"},
        {"activation_code": 5, "server_id": "s"},
        {"activation_code": "x", "server_id": ""},
        {"activation_code": "x" * 101, "server_id": "s"},
        [],
        "text",
    ],
)
def test_malformed_status_bodies_are_422(client: TestClient, body: Any) -> None:
    raw = json.dumps(body).encode()  # ASCII-escaped, so a lone surrogate gets through
    response = client.post(
        "/api/v1/status", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("path", ["/api/v1/status", "/api/v1/activeupdate/manifest"])
@pytest.mark.parametrize(
    ("content_type", "raw", "detail"),
    [
        ("text/plain", b'{"activation_code": "x", "server_id": "s"}', "valid JSON object"),
        ("application/json", b"", "Field required"),
        ("application/json", b'{"activation_code": ', "Invalid JSON"),
        ("application/json", b'{"server_id": "s"}', "activation_code: Field required"),
    ],
)
def test_hot_routes_refuse_bodies_as_every_route_does(
    client: TestClient, path: str, content_type: str, raw: bytes, detail: str
) -> None:
    """The two hot routes (`cssec.vendor_service.api.hot`) answer a bad body with the same
    documented 422 as the FastAPI routes: the validation_error code, the field and what is
    wrong, in the request's language."""
    response = client.post(
        path, content=raw, headers={"content-type": content_type, "accept-language": "en"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert detail in body["message"], body
    assert response.headers["cache-control"] == "no-store"  # the middleware still wraps them


def test_hot_routes_take_json_with_a_charset_or_a_json_suffix(
    app: FastAPI, client: TestClient
) -> None:
    code = _issue(app).codes[Product.CS]
    for content_type in ("application/json; charset=utf-8", "application/vnd.cssec+json"):
        raw = json.dumps({"activation_code": code, "server_id": SERVER}).encode()
        response = client.post(
            "/api/v1/status", content=raw, headers={"content-type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)


def test_bad_email_is_422(app: FastAPI, client: TestClient) -> None:
    issued = _issue(app)
    body = {
        "registration_key": issued.registration_key,
        "company": "c",
        "contact_email": "not an email",
        "server_id": SERVER,
    }
    assert client.post("/api/v1/registrations", json=body).status_code == 422


def test_openapi_documents_every_endpoint_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/registrations", "/api/v1/status", "/api/v1/keys", "/api/v1/health"} <= set(
        paths
    )
    registration = paths["/api/v1/registrations"]["post"]["responses"]
    assert {"200", "400", "403", "404", "413", "422", "429"} <= set(registration)
    status = paths["/api/v1/status"]["post"]["responses"]
    assert {"200", "400", "403", "413", "422", "429"} <= set(status)
    examples = status["400"]["content"]["application/json"]["examples"]
    assert {"invalid_activation_code", "mac_failed"} <= set(examples)
    assert "StatusResponse" in spec["components"]["schemas"]
    assert "ErrorBody" in spec["components"]["schemas"]
    assert status["200"]["content"]["application/json"]["schema"]["$ref"].endswith("StatusResponse")


def test_status_and_manifest_survive_killed_database_connections(
    app: FastAPI, client: TestClient, database_url: str | None
) -> None:
    """PostgreSQL's pool does not ping before each checkout: a dead connection is found by
    the first statement, the pool is invalidated, and the request is retried once."""
    if database_url is None:
        pytest.skip("PostgreSQL only: SQLite has no server connection to lose")
    import psycopg  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    code = _issue(app).codes["CS"]
    manifest = "/api/v1/activeupdate/manifest"
    body = {"activation_code": code, "server_id": SERVER}
    assert _status(client, code).status_code == 200
    assert client.post(manifest, json=body).status_code == 200
    url = make_url(database_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    assert _status(client, code).status_code == 200
    assert client.post(manifest, json=body).status_code == 200


def test_a_bug_in_a_hot_route_is_the_documented_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault injected under the status route (the hot path answers it in front of
    FastAPI's own error middleware) still gets the JSON 500 in the request's language,
    with the security headers, never a bare text page."""
    import cssec.vendor_service.api.hot as hot  # noqa: PLC0415

    def broken(*_args: Any) -> Any:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(hot, "status_envelope", broken)
    response = _status(client, "CS-anything")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "ライセンスサービス" in response.json()["message"]
    assert response.headers["x-content-type-options"] == "nosniff"
