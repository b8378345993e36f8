"""The hot paths' readers (`cssec.vendor_service.hotdb`: psycopg's async pool, SQLite's own
connection), with the app's lifespan running as under uvicorn: the same answers as the
synchronous path, every refusal worded the same, a revoked code's date read right, dead
PostgreSQL connections survived, a database that does not answer is a 503."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from cssec.core.clock import FakeClock
from cssec.core.errors import RevokedActivationCode
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.vendor_service import services
from cssec.vendor_service.app import create_app
from cssec.vendor_service.hotdb import PostgresReader, SqliteReader
from cssec.vendor_service.models import StatusCheck
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.settings import VendorSettings

MANIFEST = "/api/v1/activeupdate/manifest"


@pytest.fixture
def live(settings: VendorSettings, clock: FakeClock) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:  # runs the lifespan
        reader = app.state.hot_reader
        assert isinstance(reader, PostgresReader | SqliteReader)
        assert reader.is_open
        yield app, client
    assert not reader.is_open  # closed by the lifespan


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _contract(app: FastAPI, **kwargs: Any) -> services.IssuedContract:
    with _vendor(app).session() as session:
        return services.issue_contract(
            session, customer="株式会社サンプル", seats=25, actor="test", **kwargs
        )


def _body(code: str) -> dict[str, str]:
    return {"activation_code": code, "server_id": "srv-1"}


def test_status_through_the_async_reader_is_signed_and_recorded(
    live: tuple[FastAPI, TestClient],
) -> None:
    app, client = live
    issued = _contract(app)
    reads = app.state.hot_reader.reads()
    response = client.post("/api/v1/status", json=_body(issued.codes["CS"]))
    assert response.status_code == 200, response.text
    assert app.state.hot_reader.reads() == reads + 1  # it went through the async reader
    keys = {k["kid"]: VerifyingKey.from_jwk(k) for k in client.get("/api/v1/keys").json()["keys"]}
    check = verify_statement(response.json(), keys)
    assert check.ok, check
    statement = response.json()["statement"]
    assert (statement["state"], statement["contract_end"]) == ("activated", issued.end.isoformat())
    assert (statement["seats"], statement["customer"]) == (25, "株式会社サンプル")
    _vendor(app).status_log.flush()
    with _vendor(app).session() as session:
        checks = session.scalars(select(StatusCheck)).all()
        assert [(c.server_id, c.state) for c in checks] == [("srv-1", "activated")]


def test_refusals_through_the_async_reader_are_the_documented_ones(
    live: tuple[FastAPI, TestClient], clock: FakeClock
) -> None:
    app, client = live
    issued = _contract(app)
    code = issued.codes["CS"]
    forged = code[:-2] + ("00" if not code.endswith("00") else "11")
    answer = client.post("/api/v1/status", json=_body(forged), headers={"accept-language": "en"})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_activation_code")
    with _vendor(app).session() as session:
        services.revoke_code(session, code, actor="test", reason="test")
    with _vendor(app).session() as session, pytest.raises(RevokedActivationCode) as revoked:
        services.issue_status_statement(session, code, server_id="srv-1")  # the sync path
    refusal = revoked.value.to_dict("en")
    assert refusal["revocation"]["statement"]["state"] == "revoked"  # signed, for the server
    for path in ("/api/v1/status", MANIFEST):
        answer = client.post(path, json=_body(code), headers={"accept-language": "en"})
        assert answer.status_code == 403
        expected = (
            refusal
            if path == "/api/v1/status"
            else {k: v for k, v in refusal.items() if k != "revocation"}
        )
        assert answer.json() == expected  # the revocation date too
    lapsed = _contract(app).codes["CS"]
    clock.advance(timedelta(days=3 * 365))
    answer = client.post(MANIFEST, json=_body(lapsed), headers={"accept-language": "ja"})
    assert (answer.status_code, answer.json()["code"]) == (403, "license_expired")
    status = client.post("/api/v1/status", json=_body(lapsed)).json()
    assert status["statement"]["state"] == "expired"  # the truth, still signed


def test_manifest_through_the_async_reader(live: tuple[FastAPI, TestClient]) -> None:
    app, client = live
    code = _contract(app).codes["CS"]
    first = client.post(MANIFEST, json=_body(code))
    assert first.status_code == 200, first.text
    again = client.post(MANIFEST, json=_body(code))
    assert again.json() == first.json()


def test_killed_connections_are_survived(
    live: tuple[FastAPI, TestClient], settings: VendorSettings
) -> None:
    app, client = live
    if settings.database_url is None:
        pytest.skip("PostgreSQL only: SQLite has no server connection to lose")
    code = _contract(app).codes["CS"]
    assert client.post("/api/v1/status", json=_body(code)).status_code == 200
    url = make_url(settings.database_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    for _ in range(3):
        assert client.post("/api/v1/status", json=_body(code)).status_code == 200


def test_a_database_that_does_not_answer_is_a_503_not_a_traceback(
    live: tuple[FastAPI, TestClient],
) -> None:
    """A reader whose database does not answer fails with psycopg's OperationalError (the
    pool's timeout), which the app answers as its documented 503."""
    app, _client = live
    assert psycopg.OperationalError in app.exception_handlers

    async def read_from_nowhere() -> None:
        reader = PostgresReader(
            "postgresql+psycopg://nobody@127.0.0.1:1/none", max_size=1, timeout=1
        )
        await reader.open()
        try:
            with pytest.raises(psycopg.OperationalError):
                await reader.code_facts_row("CS-0000")
        finally:
            await reader.close()

    asyncio.run(read_from_nowhere())


def test_a_corrupt_sqlite_file_is_the_documented_json_error_not_a_traceback(
    live: tuple[FastAPI, TestClient], settings: VendorSettings
) -> None:
    """The SQLite reader's own connection meets a database file gone bad under it (garbage,
    as a broken disk would leave): the JSON 500 in the request's language, logged; a lock
    or I/O error (sqlite3.OperationalError) is the 503 like PostgreSQL's."""
    app, client = live
    if settings.database_url is not None:
        pytest.skip("SQLite only")
    assert sqlite3.OperationalError in app.exception_handlers
    code = _contract(app).codes["CS"]
    database = settings.data_dir / "vendor.db"
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.write_bytes(b"not a database" * 512)
    answer = client.post("/api/v1/status", json=_body(code), headers={"accept-language": "en"})
    assert answer.status_code == 500, answer.text
    assert answer.json()["code"] == "internal_error"
    assert answer.headers["content-type"] == "application/json"
