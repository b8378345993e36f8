"""The admin API's conventions as an integrator meets them: Idempotency-Key, cursor
pagination, ETag/If-Match on the contact, the per-token rate limit, bulk batches as jobs,
webhooks, usage reports, and the OpenAPI document."""

from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.admin.conftest import MakeToken, bearer

from cssec.vendor_service import services
from cssec.vendor_service.services.status_log import StatusLog
from cssec.vendor_service.settings import VendorSettings

API = "/api/v1/admin"
NEW = {"customer": "株式会社コンベンション", "seats": 3}


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    app: FastAPI, make_token: MakeToken
) -> None:
    client, auth = _client(app), bearer(make_token())
    key = {"Idempotency-Key": "9b2f6c1e-0d4a-4c55-8a3e-1f0e2d3c4b5a", **auth}
    first = client.post(f"{API}/contracts", json=NEW, headers=key)
    assert first.status_code == 201
    # Reordered fields are the same request.
    same = client.post(f"{API}/contracts", json=dict(reversed(NEW.items())), headers=key)
    assert same.status_code == 201
    assert same.json() == first.json()
    assert same.headers["Idempotent-Replayed"] == "true"
    assert same.headers["ETag"] == first.headers["ETag"]
    other = client.post(f"{API}/contracts", json={**NEW, "seats": 4}, headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    listed = client.get(f"{API}/contracts", headers=auth).json()["items"]
    assert [c["id"] for c in listed] == [first.json()["id"]]
    # Keys belong to a token: another token's same key is its own request.
    theirs = client.post(f"{API}/contracts", json=NEW, headers={**key, **bearer(make_token())})
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]
    # A refusal by the use case is an answer too, replayed as it was.
    bad = {"customer": "x", "seats": 3, "contact_email": "not-an-address"}
    refused = client.post(f"{API}/contracts", json=bad, headers={**auth, "Idempotency-Key": "b"})
    again = client.post(f"{API}/contracts", json=bad, headers={**auth, "Idempotency-Key": "b"})
    assert refused.status_code == again.status_code == 400
    assert again.json() == refused.json()
    assert again.json()["code"] == "invalid_contract_terms"


def test_lists_page_with_an_opaque_cursor(app: FastAPI, make_token: MakeToken) -> None:
    client, auth = _client(app), bearer(make_token())
    made = [client.post(f"{API}/contracts", json=NEW, headers=auth).json()["id"] for _ in range(5)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/contracts", params=params, headers=auth).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    assert pages == 3
    bad = client.get(f"{API}/contracts", params={"cursor": "not-a-cursor"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"
    by_name = client.get(
        f"{API}/contracts", params={"q": "コンベンション", "limit": 3}, headers=auth
    )
    assert [c["id"] for c in by_name.json()["items"]] == sorted(made, reverse=True)[:3]
    assert client.get(f"{API}/contracts", params={"q": "100%"}, headers=auth).json()["items"] == []
    one = client.get(f"{API}/contracts/{made[2]}", headers=auth).json()
    typed = one["codes"][0]["activation_code"].replace("-", "").lower()  # as a person types it
    by_code = client.get(f"{API}/contracts", params={"q": typed}, headers=auth).json()["items"]
    assert [c["id"] for c in by_code] == [made[2]]
    customers = client.get(f"{API}/customers", params={"q": "コンベンション"}, headers=auth)
    assert customers.json()["items"][0]["contract_ids"] == sorted(made)


def _walk(client: TestClient, path: str, auth: dict[str, str], **params: Any) -> list[Any]:
    """Every item of a list, one page at a time, following next_cursor."""
    seen: list[Any] = []
    cursor: str | None = None
    while True:
        asked = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}{path}", params=asked, headers=auth)
        assert page.status_code == 200, (path, page.text)
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def test_every_list_pages_through_all_its_items_once(app: FastAPI, make_token: MakeToken) -> None:
    """Each list, walked one item a page, shows what one large page shows, in its order."""
    client, auth = _client(app), bearer(make_token())
    for n in range(3):
        hook = {"url": f"https://billing{n}.example.com/hooks", "secret": "whsec_" + "A" * 32,
                "events": ["contract.created"]}  # fmt: skip
        assert client.post(f"{API}/webhooks", json=hook, headers=auth).status_code == 201
    for n in range(3):
        new = {**NEW, "customer": f"株式会社ページ{n}"}
        assert client.post(f"{API}/contracts", json=new, headers=auth).status_code == 201
    lists = {
        "/contracts": {},
        "/customers": {},
        "/audit": {"action": "contract.created"},
        "/webhooks": {},
        "/webhook-deliveries": {},
        "/bulk-batches": {},
    }
    for path, params in lists.items():
        whole = client.get(f"{API}{path}", params={**params, "limit": 200}, headers=auth)
        assert whole.json()["next_cursor"] is None
        expected = whole.json()["items"]
        assert len(expected) >= (3 if path != "/bulk-batches" else 0), path
        assert _walk(client, path, auth, **params) == expected, path
    webhooks = [hook["id"] for hook in _walk(client, "/webhooks", auth)]
    assert webhooks == sorted(webhooks)  # oldest first
    contracts = [c["id"] for c in _walk(client, "/contracts", auth)]
    assert contracts == sorted(contracts, reverse=True)


def test_two_clerks_cannot_overwrite_each_others_contact(
    app: FastAPI, make_token: MakeToken
) -> None:
    client, auth = _client(app), bearer(make_token())
    contract = client.post(f"{API}/contracts", json=NEW, headers=auth)
    path, etag = f"{API}/contracts/{contract.json()['id']}/contact", contract.headers["ETag"]
    first = client.put(
        path, json={"email": "a@example.jp", "language": "ja"}, headers={**auth, "If-Match": etag}
    )
    assert first.status_code == 200, first.text
    assert first.json()["contact"] == {"email": "a@example.jp", "language": "ja"}
    second = client.put(
        path, json={"email": "b@example.jp", "language": "en"}, headers={**auth, "If-Match": etag}
    )
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    assert second.json()["etag"] == first.headers["ETag"]
    unconditional = client.put(path, json={"email": "b@example.jp", "language": "en"}, headers=auth)
    assert unconditional.status_code == 428
    read = client.get(path.removesuffix("/contact"), headers=auth)
    assert read.json()["contact"]["email"] == "a@example.jp"


def test_each_token_has_its_own_rate_limit(app: FastAPI, make_token: MakeToken) -> None:
    app.state.vendor.settings.admin_api_rate_limit = "3/minute"
    client, busy, quiet = _client(app), bearer(make_token()), bearer(make_token())
    answers = [client.get(f"{API}/audit", headers=busy).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get(f"{API}/audit", headers=busy)
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.get(f"{API}/audit", headers=quiet).status_code == 200


def test_a_bulk_batch_runs_as_a_job_and_its_csv_downloads(
    app: FastAPI, make_token: MakeToken
) -> None:
    client, auth = _client(app), bearer(make_token(name="distributor"))
    body = {"count": 25, "seats": 5, "customer": "Distributor K.K.", "with_dcs": True}
    started = client.post(f"{API}/bulk-batches", json=body, headers=auth)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] == "queued"
    assert app.state.bulk_jobs.wait(job["id"], timeout=60)
    done = client.get(f"{API}/bulk-batches/{job['id']}", headers=auth).json()
    assert done["status"] == "done", done
    assert done["done"] == 25
    first, last = done["contract_ids"]
    assert last - first == 24
    result = client.get(done["result_url"], headers=auth)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert len(rows) == 25
    assert {r["contract_id"] for r in rows} == {str(i) for i in range(first, last + 1)}
    with app.state.vendor.session() as session:
        inspected = services.inspect_code(session, rows[0]["activation_code_dcs"])
    assert inspected.verdict == "valid"
    assert inspected.customer == "Distributor K.K."
    audit = client.get(f"{API}/audit", params={"actor": "token:distributor"}, headers=auth)
    changes = [e["action"] for e in audit.json()["items"] if e["action"] != "api.read"]
    assert changes == ["bulk.downloaded", "contract.bulk_issued"]
    reads = [e["target"] for e in audit.json()["items"] if e["action"] == "api.read"]
    assert reads == [f"{API}/audit", f"{API}/bulk-batches/{job['id']}"]
    refused = client.post(f"{API}/bulk-batches", json={**body, "seats": 0}, headers=auth)
    assert refused.status_code == 422


def test_webhooks_and_their_deliveries(app: FastAPI, make_token: MakeToken) -> None:
    client, auth = _client(app), bearer(make_token())
    hook = {
        "url": "http://127.0.0.1:9/hooks",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "events": ["contract.created"],
        "description": "billing",
    }
    added = client.post(f"{API}/webhooks", json=hook, headers=auth)
    assert added.status_code == 201, added.text
    assert "secret" not in added.json()
    listed = client.get(f"{API}/webhooks", headers=auth).json()["items"]
    assert [w["id"] for w in listed] == [added.json()["id"]]
    client.post(f"{API}/contracts", json=NEW, headers=auth)
    messages = client.get(f"{API}/webhook-deliveries", headers=auth).json()["items"]
    assert [(m["event"], m["status"]) for m in messages] == [("contract.created", "pending")]
    again = client.post(f"{API}/webhook-deliveries/{messages[0]['id']}/redeliver", headers=auth)
    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    removed = client.delete(f"{API}/webhooks/{added.json()['id']}", headers=auth)
    assert removed.json()["cancelled_messages"] == 1
    assert client.get(f"{API}/webhooks", headers=auth).json()["items"] == []
    gone = client.delete(f"{API}/webhooks/{added.json()['id']}", headers=auth)
    assert gone.status_code == 404


def test_seat_usage_reports(app: FastAPI, make_token: MakeToken) -> None:
    client, auth = _client(app), bearer(make_token())
    contract = client.post(f"{API}/contracts", json=NEW, headers=auth).json()
    code = contract["codes"][0]["activation_code"]
    status = client.post(
        "/api/v1/status",
        json={"activation_code": code, "server_id": "srv-1", "seats_used": 5},
    )
    assert status.status_code == 200, status.text
    log: StatusLog = app.state.vendor.status_log
    log.flush()
    usage = client.get(f"{API}/contracts/{contract['id']}/usage", headers=auth).json()
    assert [(u["server_id"], u["seats_used"]) for u in usage["items"]] == [("srv-1", 5)]
    over = client.get(f"{API}/usage/over-seats", headers=auth).json()["items"]
    assert [(o["contract_id"], o["seats"], o["seats_used"]) for o in over] == [
        (contract["id"], 3, 5)
    ]


def test_the_openapi_document_describes_every_admin_operation(app: FastAPI) -> None:
    schema = app.openapi()
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
    ]
    assert len(operations) >= 20
    assert "ApiToken" in schema["components"]["securitySchemes"]
    for path, method, op in operations:
        label = f"{method.upper()} {path}"
        assert op.get("summary"), label
        assert op.get("security") == [{"ApiToken": []}], label
        for status in ("401", "403", "422", "429"):
            examples = op["responses"][status]["content"]["application/json"]["examples"]
            assert examples, (label, status)
        if method == "post":
            names = {p["name"] for p in op.get("parameters", [])}
            assert "Idempotency-Key" in names, label
        if method in {"put"} or path.endswith("/renew"):
            assert {"412", "428"} <= set(op["responses"]), label


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reads_answer_while_a_writer_holds_the_database(
    app: FastAPI, make_token: MakeToken, settings: VendorSettings
) -> None:
    """As during a bulk batch on SQLite: the write lock is taken for a long transaction.
    Reads (and their audit rows, queued) do not wait for it; the rows land after it."""
    client, auth = _client(app), bearer(make_token(name="poller"))
    contract = client.post(f"{API}/contracts", json=NEW, headers=auth).json()
    holder = sqlite3.connect(settings.data_dir / "vendor.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        read = client.get(f"{API}/contracts/{contract['id']}", headers=auth)
        assert read.status_code == 200
        assert read.json()["id"] == contract["id"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    audit = client.get(f"{API}/audit", params={"action": "api.read"}, headers=auth).json()
    assert f"{API}/contracts/{contract['id']}" in [e["target"] for e in audit["items"]]


def test_unusable_input_is_refused_before_it_reaches_the_database(
    app: FastAPI, make_token: MakeToken
) -> None:
    """PostgreSQL refuses NUL in text outright, and a date past what a code encodes once
    overflowed a term's end: each is a 422 naming the field, never a 500."""
    client, auth = _client(app), bearer(make_token())
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    asked = [
        client.get(f"{API}/contracts", params={"q": "a\x00b"}, headers=auth),
        client.get(f"{API}/customers", params={"q": "\x00"}, headers=auth),
        client.get(f"{API}/audit", params={"actor": "\x00", "target": "t\x00"}, headers=auth),
        client.get(f"{API}/codes/a%00b", headers=auth),
        client.post(f"{API}/contracts", json={**NEW, "contact_email": "a\x00@b.jp"}, headers=auth),
        client.post(
            f"{API}/webhooks",
            json={
                "url": "https://h.example/",
                "secret": secret,
                "events": ["code.revoked"],
                "description": "\x00",
            },
            headers=auth,
        ),
        # Dates no code can carry, and instants out of range or without a time zone.
        client.post(f"{API}/contracts", json={**NEW, "start": "9999-12-31"}, headers=auth),
        client.post(
            f"{API}/bulk-batches",
            json={"count": 1, "seats": 1, "start": "9999-12-31"},
            headers=auth,
        ),
        client.get(f"{API}/audit", params={"since": "0001-01-01T00:00:00+01:00"}, headers=auth),
        client.get(f"{API}/audit", params={"until": "2026-01-01T00:00:00"}, headers=auth),
    ]
    assert [r.status_code for r in asked] == [422] * len(asked)
    assert {r.json()["code"] for r in asked} == {"validation_error"}
