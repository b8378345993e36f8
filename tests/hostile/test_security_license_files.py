"""Air-gapped renewal by file attacked with real files: a response rewritten to answer
another request, statements mixed between responses, keys and endorsements of the
attacker's own, and hostile bytes uploaded on 製品ライセンス and the console.

Already covered in tests/server/licensing/test_offline_renewal.py and not repeated: a
response for another server, a response to another request as the vendor wrote it, a
tampered statement, an older response after a newer one (stale_statement), the same
response twice, a tampered or foreign request at the vendor. The server is installed
against the in-process vendor (real Ed25519 keys); the Web manager is driven over HTTP.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.hostile import csrf_of, vendor_of
from tests.hostile.test_security_webmanager import client_for, database, login, token_of

from cssec.core.clock import FakeClock
from cssec.core.license_files import request_digest
from cssec.core.signing import SigningKey, endorse_key, sign_statement
from cssec.server.licensing.offline_renewal import write_request
from cssec.server.models import LicenseSlot
from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry, StatusCheck
from cssec.vendor_service.services import IssuedContract
from cssec.vendor_service.services.offline_renewal import respond

RESPONSE_URL = "/admin/licenses/renewal-response"
DANGER = 'data-testid="flash-danger"'
"""The refusal's message on 製品ライセンス after the redirect."""
NOISE = {"clock_observations", "server_info", "users", "events"}
"""Tables the upload itself touches whatever the file: the clock guard's notes (every
import observes the time), the admin's last login (each upload logs in), the login
events."""


def _request(server_app: FastAPI) -> bytes:
    return write_request(server_app.state.server.license_env(), actor="test").data


def _respond(vendor_app: FastAPI, clock: FakeClock, request: bytes) -> bytes:
    with vendor_of(vendor_app).session() as session:
        return respond(session, request, actor="desk:test", now=clock.now())


def _expiry(server_app: FastAPI) -> str:
    with server_app.state.server.sessionmaker() as session:
        slot = session.scalar(select(LicenseSlot).where(LicenseSlot.product == "CS"))
        assert slot is not None
        return slot.expires_on.isoformat()


async def _upload(server_app: FastAPI, data: bytes) -> tuple[httpx.Response, str]:
    """POST the file on 製品ライセンス as the logged-in admin; the answer and the page after."""
    async with client_for(server_app) as admin:
        await login(admin)
        answer = await admin.post(
            RESPONSE_URL,
            data={"csrf_token": await token_of(admin)},
            files={"response_file": ("RESP.json", data, "application/json")},
        )
        page = await admin.get("/admin/licenses")
        return answer, page.text


def _without_clock(db: dict[str, Any]) -> dict[str, Any]:
    """The server database but NOISE."""
    return {t: rows for t, rows in db.items() if t not in NOISE}


@pytest.fixture
def renewed(
    vendor_app: FastAPI, contract: IssuedContract, server_app: FastAPI, clock: FakeClock
) -> Callable[[], bytes]:
    """After a day and a renewal at the vendor: a fresh request of the server, answered."""
    clock.advance(timedelta(days=1))
    with vendor_of(vendor_app).session() as session:
        services.renew_contract(session, contract.registration_key, actor="test")

    def answer() -> bytes:
        return _respond(vendor_app, clock, _request(server_app))

    return answer


async def test_a_response_rewritten_to_answer_another_request_is_refused(
    vendor_app: FastAPI, server_app: FastAPI, clock: FakeClock, renewed: Callable[[], bytes]
) -> None:
    first = json.loads(renewed())
    second_request = json.loads(_request(server_app))  # pending, unanswered
    before = _expiry(server_app)
    forged = dict(first)
    forged["nonce"] = second_request["statement"]["nonce"]
    forged["request_sha256"] = json.loads(_respond(vendor_app, clock, _request(server_app)))[
        "request_sha256"
    ]  # any digest the server knows: the statements still name the first request
    for attempt in (forged, {**forged, "request_sha256": "0" * 64}):
        state = _without_clock(database(server_app))
        answer, page = await _upload(server_app, json.dumps(attempt).encode())
        assert answer.status_code in {200, 303}
        assert DANGER in page
        assert _without_clock(database(server_app)) == state
    assert _expiry(server_app) == before


async def test_statements_moved_between_responses_are_refused(
    vendor_app: FastAPI, server_app: FastAPI, clock: FakeClock, renewed: Callable[[], bytes]
) -> None:
    one, two = json.loads(renewed()), json.loads(renewed())
    mixed = dict(two)
    mixed["statements"] = one["statements"]
    before, state = _expiry(server_app), _without_clock(database(server_app))
    _answer, page = await _upload(server_app, json.dumps(mixed).encode())
    assert DANGER in page
    assert _without_clock(database(server_app)) == state
    assert _expiry(server_app) == before
    # The genuine second response still imports afterwards: nothing was used up.
    await _upload(server_app, json.dumps(two).encode())
    assert _expiry(server_app) != before


async def test_statements_signed_by_a_key_the_attacker_brought_are_refused(
    vendor_app: FastAPI, server_app: FastAPI, clock: FakeClock, renewed: Callable[[], bytes]
) -> None:
    genuine = json.loads(renewed())
    request = json.loads(_request(server_app))
    mine = SigningKey.generate()
    vendor_kid = genuine["statements"][0]["kid"]
    statements = []
    for envelope in genuine["statements"]:
        statement = copy.deepcopy(envelope["statement"])
        statement["nonce"] = request["statement"]["nonce"]
        statement["contract_end"] = "2099-12-31"
        statement["request_sha256"] = "x"  # replaced below, once the digest is known
        statements.append(statement)
    bound = request_digest(request)
    forged_statements = []
    for statement in statements:
        statement["request_sha256"] = bound
        forged_statements.append(sign_statement(statement, mine))
    # The attacker's key under the vendor's kid, too.
    same_kid = [dict(e, kid=vendor_kid) for e in forged_statements]
    endorsement = endorse_key(mine.public, mine, at=clock.now())
    vendor_kid_endorsement = dict(endorsement, kid=vendor_kid)
    before, trust = _expiry(server_app), server_app.state.server.data.read_vendor_trust()
    for statements_, endorsements in (
        (forged_statements, []),
        (forged_statements, [endorsement, vendor_kid_endorsement]),
        (same_kid, [vendor_kid_endorsement]),
    ):
        response = {
            **genuine,
            "nonce": request["statement"]["nonce"],
            "request_sha256": bound,
            "statements": statements_,
            "keys": [mine.public.to_jwk(), *genuine["keys"]],
            "endorsements": endorsements + genuine["endorsements"],
        }
        _answer, page = await _upload(server_app, json.dumps(response).encode())
        assert DANGER in page
        assert _expiry(server_app) == before
    assert server_app.state.server.data.read_vendor_trust() == trust


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("RESP.json", b" " * (16 * 1024 * 1024))
    return buffer.getvalue()


def _hostile_responses(genuine: dict[str, Any]) -> dict[str, bytes]:
    envelope = genuine["statements"][0]

    def with_envelope(**fields: Any) -> bytes:
        return json.dumps({**genuine, "statements": [{**envelope, **fields}]}).encode()

    def with_statement(**fields: Any) -> bytes:
        return with_envelope(statement={**envelope["statement"], **fields})

    return {
        "empty": b"",
        "too_large": b'{"v": 1, "x": "' + b"x" * (70 * 1024) + b'"}',
        "deep_json": b"[" * 25_000 + b"]" * 25_000,
        "deep_statement": json.dumps({**genuine, "statements": [{"statement": 0}]})
        .encode()
        .replace(b'"statement": 0', b'"statement": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000),
        "huge_int": b'{"v": 1, "kind": "license_response", "x": ' + b"9" * 5_000 + b"}",
        "huge_float": b'{"v": 1e999999, "kind": "license_response"}',
        "nan": b'{"v": NaN, "kind": "license_response", "statements": [Infinity]}',
        "not_utf8": b"\xff\xfe\x00{\x00}\xc3\x28",
        "zip_bomb": _zip_bomb(),
        "array": b"[]",
        "kid_list": with_envelope(kid=["ed25519-x"]),
        "kid_object": with_envelope(kid={"a": 1}),
        "alg_none": with_envelope(alg="none", signature=""),
        "signature_not_b64": with_envelope(signature="!!!!"),
        "signature_huge": with_envelope(signature="A" * 40_000),
        "statement_string": with_envelope(statement="CS"),
        "product_list": with_statement(product=["CS"]),
        "product_unknown": with_statement(product="ZZ"),
        "state_revoked_unsigned": with_statement(state="revoked"),
        "grace_huge": with_statement(grace_days=10**30),
        "nine_statements": json.dumps({**genuine, "statements": [envelope] * 9}).encode(),
        "keys_garbage": json.dumps({**genuine, "keys": [1, "x", {"kty": "OKP"}, None]}).encode(),
        "endorsements_garbage": json.dumps(
            {**genuine, "endorsements": [1, "x", {"alg": "ed25519", "kid": []}, None] * 50}
        ).encode(),
        "server_id_long": json.dumps({**genuine, "server_id": "s" * 10_000}).encode(),
        "nonce_object": json.dumps({**genuine, "nonce": {"$ne": ""}}).encode(),
    }


GARBAGE_AROUND_GENUINE = {"keys_garbage", "endorsements_garbage"}
_NAMES = sorted(_hostile_responses({"statements": [{"statement": {}}]}))


@pytest.mark.parametrize("name", _NAMES)
async def test_hostile_response_files_on_the_web_manager_change_nothing(
    vendor_app: FastAPI, server_app: FastAPI, clock: FakeClock, renewed: Callable[[], bytes],
    name: str,
) -> None:  # fmt: skip
    genuine = json.loads(renewed())
    data = _hostile_responses(genuine)[name]
    before, state = _expiry(server_app), _without_clock(database(server_app))
    trust = server_app.state.server.data.read_vendor_trust()
    answer, page = await _upload(server_app, data)
    assert server_app.state.server.data.read_vendor_trust() == trust
    if name in GARBAGE_AROUND_GENUINE:  # ignored: the vendor's statements still verify
        assert answer.status_code == 303
        assert 'data-testid="flash-success"' in page
        assert _expiry(server_app) != before
        return
    if name in {"too_large", "zip_bomb"} and len(data) > 64 * 1024:
        assert answer.status_code == 413
    else:
        assert answer.status_code == 303, (name, answer.status_code, answer.text[:300])
        assert "応答ファイル" in page or "ライセンス" in page
        assert DANGER in page, name
    assert _without_clock(database(server_app)) == state, name
    assert _expiry(server_app) == before
    # The genuine response still imports: the hostile one used nothing up.
    await _upload(server_app, json.dumps(genuine).encode())
    assert _expiry(server_app) != before


# --- The console's upload of a request file -------------------------------------------------


def _hostile_requests() -> dict[str, bytes]:
    return {
        "deep_json": b"[" * 25_000 + b"]" * 25_000,
        "huge_int": b'{"statement": {"seats_used": ' + b"9" * 5_000 + b"}}",
        "nan": b'{"statement": NaN, "public_key": {"kty": "OKP", "x": Infinity}}',
        "not_utf8": b"\xff\xfe\x00{\x00}\xc3\x28",
        "zip": _zip_bomb(),
        "kid_list": b'{"statement": {}, "alg": "ed25519", "kid": [1], "signature": "AA==",'
        b' "public_key": {"kty": "OKP", "crv": "Ed25519", "x": "' + b"A" * 43 + b'"}}',
        "jwk_string": b'{"statement": {}, "public_key": "ed25519"}',
    }


@pytest.mark.parametrize("name", sorted(_hostile_requests()))
def test_hostile_request_files_at_the_console_change_nothing(
    vendor_app: FastAPI, contract: IssuedContract, name: str
) -> None:
    with vendor_of(vendor_app).session() as session:
        services.add_user(session, name="bob", password="staple battery horse", role="staff",
                          actor="test")  # fmt: skip
    desk = TestClient(vendor_app, raise_server_exceptions=False, client=("127.0.0.1", 5000))
    page = desk.get("/console/login")
    desk.post(
        "/console/login",
        data={"username": "bob", "password": "staple battery horse",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    form = desk.get("/console/offline-renewal")
    assert form.status_code == 200

    def counts() -> tuple[int | None, int | None]:
        with vendor_of(vendor_app).session() as session:
            return (
                session.scalar(select(func.count(AuditEntry.id))),
                session.scalar(select(func.count(StatusCheck.id))),
            )

    before = counts()
    data = _hostile_requests()[name]
    answer = desk.post(
        "/console/offline-renewal",
        data={"csrf_token": csrf_of(form.text)},
        files={"request_file": ("REQ.json", data, "application/json")},
    )
    if len(data) > 64 * 1024:
        assert answer.status_code == 413
    else:
        assert answer.status_code == 400, (name, answer.status_code)
        assert "更新要求ファイル" in answer.text
    assert counts() == before


def test_the_console_upload_refuses_missing_forged_and_foreign_tokens(
    vendor_app: FastAPI, contract: IssuedContract, server_app: FastAPI
) -> None:
    with vendor_of(vendor_app).session() as session:
        services.add_user(session, name="bob", password="staple battery horse", role="staff",
                          actor="test")  # fmt: skip

    def desk(ip: str) -> TestClient:
        client = TestClient(vendor_app, raise_server_exceptions=False, client=(ip, 5000))
        page = client.get("/console/login")
        client.post(
            "/console/login",
            data={"username": "bob", "password": "staple battery horse",
                  "csrf_token": csrf_of(page.text)},
        )  # fmt: skip
        return client

    victim, attacker = desk("127.0.0.1"), desk("127.0.0.2")
    foreign = csrf_of(attacker.get("/console/offline-renewal").text)
    request = _request(server_app)
    with vendor_of(vendor_app).session() as session:
        audit = session.scalar(select(func.count(AuditEntry.id)))
        checks = session.scalar(select(func.count(StatusCheck.id)))
    for token in ("", "forged", foreign):
        refused = victim.post(
            "/console/offline-renewal",
            data={"csrf_token": token},
            files={"request_file": ("REQ.json", request, "application/json")},
        )
        assert refused.status_code == 403, token
        assert "license_response" not in refused.text
    with vendor_of(vendor_app).session() as session:
        assert session.scalar(select(func.count(AuditEntry.id))) == audit
        assert session.scalar(select(func.count(StatusCheck.id))) == checks
