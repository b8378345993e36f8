"""The C/S Sec. server over HTTP: CSRF, session fixation, brute force, and which credential
opens which API.

Already covered in tests/server/ and not repeated: a forged token on the activation form
(test_server_webmanager.py::test_forms_need_the_csrf_token), the pre-login cookie replayed
after login (test_login_rotates_the_session), lockout then the right password refused
(test_wrong_password_then_lockout), logout deleting the server-side session
(test_logout_ends_the_session), the session on the JSON API without X-CSRF-Token
(test_server_licenses.py::test_api_with_the_web_session_needs_the_csrf_header). Here: every
POST form of the Web manager, found from the app's routes so new pages are covered too,
against a missing, wrong and another session's token with the whole database unchanged;
the JSON API with another session's token; HTTP Basic brute force locking the same account;
a client token on the admin API and the admin's credentials on the agent API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import inspect, text
from tests.helpers.hostile import LOOPBACK, SERVER_PASSWORD, csrf_of, vendor_of

from cssec.core.clock import FakeClock
from cssec.core.errors import CsrfFailed
from cssec.server.webmanager import routers as webmanager_routers
from cssec.vendor_service.services import IssuedContract, issue_replacement_code, renew_contract

BASE = "http://server.test"
VOLATILE = {"web_sessions", "connection_log"}
"""Tables a refused request may still touch: the session's last-seen time, the agent's
connection status log (every agent call is logged, refused ones included)."""


def database(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the server (but VOLATILE), to compare before and after."""
    engine = app.state.server.engine
    with engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t not in VOLATILE]
        return {
            t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr)
            for t in tables
        }


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=LOOPBACK), base_url=BASE)


async def login(client: httpx.AsyncClient, password: str = SERVER_PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": csrf_of(page.text)},
    )


async def token_of(client: httpx.AsyncClient, path: str = "/admin/licenses") -> str:
    return csrf_of((await client.get(path)).text)


@pytest.fixture
async def victim(server_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(server_app) as client:
        assert (await login(client)).headers["location"] == "/dashboard"
        yield client


@pytest.fixture
async def foreign_token(server_app: FastAPI) -> AsyncIterator[str]:
    """A valid CSRF token, of the attacker's own (logged-in) session."""
    async with client_for(server_app) as attacker:
        await login(attacker)
        yield await token_of(attacker)


def _post_forms() -> list[str]:
    """Every POST of the Web manager (webmanager.routers is where each page router is listed),
    path parameters filled with 1."""
    paths = sorted(
        router.prefix + route.path
        for router in webmanager_routers
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    )
    return [re.sub(r"\{[^}]+\}", "1", path) for path in paths]


async def test_every_form_refuses_bad_tokens_and_changes_nothing(
    server_app: FastAPI,
    victim: httpx.AsyncClient,
    foreign_token: str,
    enrolled: dict[str, str],
) -> None:
    """`enrolled` makes client 1 exist, for the per-client forms."""
    forms = _post_forms()
    assert {"/login", "/logout", "/admin/licenses/activation-code"} <= set(forms)
    before = database(server_app)
    for path in forms:
        for token in ("", "forged", foreign_token):
            form = {"lang": "en", "on": "1", "hostname": "pc-02", "product": "CS"}
            response = await victim.post(path, data={**form, "csrf_token": token})
            assert response.status_code in (303, 403, 404, 422), (path, response.status_code)
            assert database(server_app) == before, (path, token)
    # Still logged in (logout was refused), still in Japanese (the language switch too).
    dashboard = await victim.get("/dashboard")
    assert dashboard.status_code == 200
    assert 'lang="ja"' in dashboard.text


async def test_license_forms_with_a_good_payload_need_the_sessions_own_token(
    server_app: FastAPI,
    vendor_app: FastAPI,
    victim: httpx.AsyncClient,
    foreign_token: str,
    contract: IssuedContract,
) -> None:
    """What a forged form would want: a new (valid) code, and a status check after the
    vendor renewed the contract. Refused with each bad token, accepted with the right one."""
    with vendor_of(vendor_app).session() as session:
        new_code = issue_replacement_code(
            session, contract.registration_key, product="CS", actor="test"
        )
    with vendor_of(vendor_app).session() as session:
        renew_contract(session, contract.registration_key, months=12, actor="test")
    form = {"activation_code": new_code, "product": "CS"}
    before = database(server_app)
    for token in ("", "forged", foreign_token):
        refused = await victim.post(
            "/admin/licenses/activation-code", data={**form, "csrf_token": token}
        )
        assert refused.status_code == 303
        page = await victim.get(refused.headers["location"])
        assert CsrfFailed().message("ja") in page.text
        refused = await victim.post(
            "/admin/licenses/check-online", data={"product": "CS", "csrf_token": token}
        )
        assert refused.status_code == 303
        api = await victim.post(
            "/api/v1/licenses/activation-code",
            json={"activation_code": new_code},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 403
        assert api.json()["code"] == "csrf_failed"
        assert database(server_app) == before, token
    done = await victim.post(
        "/admin/licenses/activation-code", data={**form, "csrf_token": await token_of(victim)}
    )
    assert done.headers["location"] == "/admin/licenses"
    licenses = (await victim.get("/api/v1/licenses")).json()
    assert next(s for s in licenses if s["product"] == "CS")["activation_code"] == new_code


async def test_basic_auth_brute_force_locks_the_same_account(
    server_app: FastAPI, clock: FakeClock
) -> None:
    """HTTP Basic is no way around the Web manager's lockout: five wrong passwords lock the
    admin for both; while locked the right password gets the same answer as a wrong one."""
    async with client_for(server_app) as client:
        answers = [
            (await client.get("/api/v1/licenses", auth=("admin", f"guess {i}"))).status_code
            for i in range(5)
        ]
        assert answers == [401, 401, 401, 401, 429]
        right = await client.get("/api/v1/licenses", auth=("admin", SERVER_PASSWORD))
        wrong = await client.get("/api/v1/licenses", auth=("admin", "guess 6"))
        assert right.status_code == wrong.status_code == 429
        assert right.json()["code"] == wrong.json()["code"] == "account_locked"
        assert right.json()["message"] == wrong.json()["message"]
        web = await login(client)
        assert web.headers["location"].startswith("/login")
        assert (await client.get("/dashboard")).status_code == 303
        clock.advance(timedelta(minutes=16))
        opened = await client.get("/api/v1/licenses", auth=("admin", SERVER_PASSWORD))
        assert opened.status_code == 200


async def test_the_lock_answer_does_not_reveal_which_account_exists(
    server_app: FastAPI,
) -> None:
    async with client_for(server_app) as client:
        for name in ("admin", "root"):
            for i in range(5):
                await client.get("/api/v1/licenses", auth=(name, f"guess {i}"))
        real = await client.get("/api/v1/licenses", auth=("admin", "guess 6"))
        unknown = await client.get("/api/v1/licenses", auth=("root", "guess 6"))
        assert real.status_code == unknown.status_code
        assert real.json() == unknown.json()


@pytest.fixture
async def enrolled(server_app: FastAPI) -> dict[str, str]:
    """A client installed by the AutoPcc route from loopback: its id and token."""
    async with client_for(server_app) as client:
        response = await client.post(
            "/api/v1/agent/enroll", json={"route": "autopcc", "hostname": "pc-01"}
        )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_a_client_token_is_no_admin_credential(
    server_app: FastAPI, enrolled: dict[str, str]
) -> None:
    token, client_id = enrolled["client_token"], enrolled["client_id"]
    # The control: the token works where it belongs.
    async with client_for(server_app) as client:
        beat = await client.post(
            "/api/v1/agent/heartbeat", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert beat.status_code == 200, beat.text
        before = database(server_app)
        for auth in (
            {"headers": {"Authorization": f"Bearer {token}"}},
            {"auth": (client_id, token)},
            {"auth": ("admin", token)},
            {"auth": (token, "")},
        ):
            listed = await client.get("/api/v1/licenses", **auth)
            assert listed.status_code == 401, auth
            assert listed.json()["code"] in ("not_authenticated", "login_failed")
            posted = await client.post("/api/v1/licenses/check-online", **auth)
            assert posted.status_code == 401, auth
            assert (await client.get("/dashboard", **auth)).status_code == 303
        after = database(server_app)
        # Only failure counts moved (the admin's, and the login throttle's for the failed
        # attempts): no license, no event, no other table.
        counts = {"users", "login_throttle_failures", "login_throttle_sources"}
        assert {t: r for t, r in after.items() if t not in counts} == {
            t: r for t, r in before.items() if t not in counts
        }


async def test_the_admins_credentials_are_no_client_credential(
    server_app: FastAPI, victim: httpx.AsyncClient, enrolled: dict[str, str]
) -> None:
    """The Web manager session (with its CSRF token) and HTTP Basic as admin on the agent
    API: 401, both."""
    token = await token_of(victim)
    calls = [
        ("POST", "/api/v1/agent/heartbeat", {"status": "online"}),
        ("POST", "/api/v1/agent/virus-log", {"scan_type": "scan_now", "detections": []}),
    ]
    for method, path, body in calls:
        by_session = await victim.request(method, path, json=body, headers={"X-CSRF-Token": token})
        assert by_session.status_code == 401, (path, by_session.text)
        by_basic = await victim.request(method, path, json=body, auth=("admin", SERVER_PASSWORD))
        assert by_basic.status_code == 401, (path, by_basic.text)
        assert by_basic.json()["code"] == "not_authenticated"


async def test_a_forged_post_does_not_plant_its_code_in_the_form(
    server_app: FastAPI, victim: httpx.AsyncClient
) -> None:
    planted = "CS-ZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"
    refused = await victim.post(
        "/admin/licenses/activation-code",
        data={"activation_code": planted, "product": "CS", "csrf_token": "forged"},
    )
    page = await victim.get(refused.headers["location"])
    assert CsrfFailed().message("ja") in page.text
    assert planted not in page.text
