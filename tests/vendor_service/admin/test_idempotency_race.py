"""Two retries of an abandoned Idempotency-Key arriving together: both find the stale
reservation, and each gets a documented answer (docs/admin-api.md): one runs, the other
is told the key is in progress or gets the first one's answer again. Never a 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select
from starlette.testclient import TestClient
from tests.helpers.vendor_pages import vendor_of
from tests.vendor_service.admin.conftest import MakeToken, bearer

from cssec.core.clock import FakeClock
from cssec.vendor_service.models import ApiToken
from cssec.vendor_service.services import idempotency

API = "/api/v1/admin"
NEW = {"customer": "株式会社リトライ", "seats": 3}
KEY = "5d0c2f8e-7b1a-4e0f-9c3d-2a6b8e4f1c70"


def _abandon(app: FastAPI, clock: FakeClock, token_name: str) -> None:
    """A first request reserved the key and died before it answered; time passes."""
    with vendor_of(app).session() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == token_name))
        assert token_id is not None
        fingerprint = idempotency.request_fingerprint("POST", f"{API}/contracts", NEW)
        taken = idempotency.begin(session, token_id=token_id, key=KEY, fingerprint=fingerprint)
        assert taken is None
    clock.advance(idempotency.ABANDONED + timedelta(seconds=1))


def _both_read_the_reservation_before_either_writes(app: FastAPI) -> None:
    """Hold each request after its read of the key's row until the other has read it too:
    the interleaving that failed. Only where reads do not wait for writers (PostgreSQL);
    SQLite's BEGIN IMMEDIATE admits one request at a time, so there they merely race."""
    engine = vendor_of(app).engine
    if engine.dialect.name == "sqlite":
        return
    both_read = threading.Barrier(2, timeout=30)
    first_reads = threading.Semaphore(2)

    @event.listens_for(engine, "after_cursor_execute")
    def _hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        reads_the_key = statement.lstrip().upper().startswith("SELECT") and (
            "idempotency_records" in statement
        )
        if reads_the_key and first_reads.acquire(blocking=False):
            both_read.wait()


def test_two_retries_of_an_abandoned_key_get_one_run_and_a_documented_answer(
    app: FastAPI, make_token: MakeToken, clock: FakeClock
) -> None:
    headers = {"Idempotency-Key": KEY, **bearer(make_token(name="integrator"))}
    _abandon(app, clock, "integrator")
    _both_read_the_reservation_before_either_writes(app)

    def retry() -> httpx.Response:
        client = TestClient(app, raise_server_exceptions=False)
        return client.post(f"{API}/contracts", json=NEW, headers=headers)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: retry(), range(2)))
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 409]), [
        a.text for a in answers
    ]
    ran = next(
        a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers
    )
    other = answers[1] if answers[0] is ran else answers[0]
    if other.status_code == 409:
        assert other.json()["code"] == "idempotency_key_in_progress"
    else:
        assert (other.headers["Idempotent-Replayed"], other.json()) == ("true", ran.json())
    listed = TestClient(app).get(f"{API}/contracts", headers=headers).json()["items"]
    assert [c["id"] for c in listed] == [ran.json()["id"]]
    # The key now holds the answer: a later retry gets it again.
    again = TestClient(app).post(f"{API}/contracts", json=NEW, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == ran.json()
