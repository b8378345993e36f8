"""The administrator JSON API's answers to faults and failed logins: a database fault is
the JSON 503 (anything else the JSON 500) in the request's language, a failed HTTP Basic
login carries the Basic challenge, and guessing `admin`'s password from one address never
locks the administrator out from another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from tests.helpers.server import PASSWORD, Desk, Server, ServerFactory

from cssec.core.clock import FakeClock
from cssec.server.api import licenses as licenses_api

CHALLENGE = 'Basic realm="cssec", charset="UTF-8"'


@asynccontextmanager
async def from_address(server: Server, host: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
        yield client


async def test_a_database_fault_answers_the_json_503(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    with server.app.state.server.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE license_slots RENAME TO license_slots_gone")
    ja = await server.api("GET", "/api/v1/licenses")
    en = await server.api("GET", "/api/v1/licenses", lang="en")
    assert ja.status_code == en.status_code == 503
    assert ja.headers["retry-after"] == "30"
    assert ja.json() == {
        "code": "service_unavailable",
        "message": "C/S Sec. サーバが一時的に利用できません。"
        "しばらくしてからもう一度お試しください。",
    }
    assert en.json()["message"] == (
        "The C/S Sec. server is temporarily unavailable. Try again shortly."
    )


async def test_any_other_fault_answers_the_json_500(
    servers: ServerFactory, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(licenses_api, "read_licenses", broken)
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
        answer = await client.get(
            "/api/v1/licenses", auth=("admin", PASSWORD), headers={"Accept-Language": "en"}
        )
    assert answer.status_code == 500
    assert answer.json() == {
        "code": "internal_error",
        "message": "The C/S Sec. server ran into a problem. Try again shortly.",
    }


async def test_a_failed_basic_login_carries_the_challenge(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    wrong = await server.client.get("/api/v1/licenses", auth=("admin", "wrong password"))
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "login_failed"
    assert wrong.headers["www-authenticate"] == CHALLENGE
    anonymous = await server.client.post("/api/v1/licenses/check-online")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == CHALLENGE


async def test_guesses_from_one_address_never_lock_the_admin_out_from_another(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    async with (
        from_address(server, "127.0.0.2") as attacker,
        from_address(server, "127.0.0.1") as admin,
    ):
        answers = [
            (await attacker.get("/api/v1/licenses", auth=("admin", f"guess {i}"))).status_code
            for i in range(7)
        ]
        assert answers == [401, 401, 401, 401, 429, 429, 429]
        assert (await admin.get("/api/v1/licenses", auth=("admin", PASSWORD))).status_code == 200
        refused = await attacker.get("/api/v1/licenses", auth=("admin", PASSWORD))
        assert refused.status_code == 429
        assert refused.json()["code"] == "account_locked"
        assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
        clock.advance(timedelta(minutes=14))
        assert (await attacker.get("/api/v1/licenses", auth=("admin", PASSWORD))).status_code == 429
        clock.advance(timedelta(minutes=1, seconds=1))
        opened = await attacker.get("/api/v1/licenses", auth=("admin", PASSWORD))
        assert opened.status_code == 200
