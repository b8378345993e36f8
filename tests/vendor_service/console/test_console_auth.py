"""Console sign-in over HTTP: sessions, CSRF, lockout, rate limit, roles, language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import ADMIN, STAFF, csrf_of, token, vendor_of

from cssec.core.clock import FakeClock
from cssec.core.errors import CsrfFailed
from cssec.vendor_service import services
from cssec.vendor_service.console import auth
from cssec.vendor_service.models import AuditEntry, User

BAD_LOGIN_JA = "ユーザー名またはパスワードが違うか"


def _attempt(client: TestClient, name: str, password: str) -> httpx.Response:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
    )


def test_pages_need_login(make_client: Callable[..., TestClient]) -> None:
    client = make_client(None)
    response = client.get("/console/contracts/1?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/contracts/1%3Fx%3D1"
    login_page = client.get(response.headers["location"])
    assert "法人お問合せ窓口にログイン" in login_page.text
    assert 'name="csrf_token"' in login_page.text


def test_login_rotates_the_session_and_returns_to_next(
    make_client: Callable[..., TestClient], contract: services.IssuedContract
) -> None:
    client = make_client(None)
    page = client.get(f"/console/login?next=/console/contracts/{contract.contract_id}")
    before = csrf_of(page.text)
    cookie_before = client.cookies.get("cssec_console")
    response = client.post(
        "/console/login",
        data={
            "username": ADMIN[0],
            "password": ADMIN[1],
            "csrf_token": before,
            "next": f"/console/contracts/{contract.contract_id}",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/contracts/{contract.contract_id}"
    set_cookie = response.headers["set-cookie"]
    assert "path=/console" in set_cookie
    assert "httponly" in set_cookie.lower()
    assert "samesite=lax" in set_cookie.lower()
    assert client.cookies.get("cssec_console") != cookie_before
    after = token(client)
    assert after != before


def test_login_refuses_offsite_next(make_client: Callable[..., TestClient]) -> None:
    client = make_client(None)
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": ADMIN[0],
            "password": ADMIN[1],
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/console/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/"


def test_unknown_user_and_wrong_password_get_the_same_answer(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(None)
    wrong = _attempt(client, ADMIN[0], "not the password")
    unknown = _attempt(client, "mallory", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert BAD_LOGIN_JA in wrong.text
    first = wrong.text.split('data-testid="login-error">')[1].split("<")[0]
    second = unknown.text.split('data-testid="login-error">')[1].split("<")[0]
    assert first == second


def test_lockout_after_repeated_failures_then_opens_again(
    app: FastAPI,
    make_client: Callable[..., TestClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert auth.MAX_FAILURES == 5
    monkeypatch.setattr(auth, "MAX_FAILURES", 3)  # fewer slow argon2 checks
    client = make_client(None)
    for _ in range(3):
        assert _attempt(client, ADMIN[0], "wrong wrong").status_code == 401
    locked = _attempt(client, ADMIN[0], ADMIN[1])
    assert locked.status_code == 401
    assert BAD_LOGIN_JA in locked.text
    with vendor_of(app).session() as session:
        # The lock is of this address's logins (cssec.web.lockout), not of the account row.
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.locked"))
        assert audit is not None
        assert audit.target == f"user:{ADMIN[0]}"
        assert audit.after is not None
        assert audit.after["source"] == "testclient"
    # The other account is not affected.
    assert _attempt(client, STAFF[0], STAFF[1]).status_code == 200
    clock.advance(timedelta(minutes=16))
    fresh = make_client(None)
    assert _attempt(fresh, ADMIN[0], ADMIN[1]).status_code == 200


def test_guesses_from_one_address_never_lock_the_owner_out_from_another(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    """Five wrong passwords for alice from 127.0.0.2: alice signs in from 127.0.0.1 with
    her password, while 127.0.0.2 stays refused, even with the right password, until its
    back-off (15 minutes) has passed."""
    attacker = TestClient(make_client(None).app, client=("127.0.0.2", 40000))
    for _ in range(auth.MAX_FAILURES + 2):
        assert _attempt(attacker, ADMIN[0], "guessing").status_code == 401
    owner = TestClient(make_client(None).app, client=("127.0.0.1", 40000))
    signed_in = _attempt(owner, ADMIN[0], ADMIN[1])
    assert signed_in.status_code == 200
    assert str(signed_in.url).endswith("/console/")
    refused = _attempt(attacker, ADMIN[0], ADMIN[1])
    assert refused.status_code == 401
    assert BAD_LOGIN_JA in refused.text
    clock.advance(timedelta(minutes=14))
    assert _attempt(attacker, ADMIN[0], ADMIN[1]).status_code == 401
    clock.advance(timedelta(minutes=2))
    opened = _attempt(attacker, ADMIN[0], ADMIN[1])
    assert opened.status_code == 200
    assert str(opened.url).endswith("/console/")


def test_per_ip_rate_limit(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert auth.LOGIN_LIMIT_PER_IP == "10/minute"
    monkeypatch.setattr(auth, "LOGIN_LIMIT_PER_IP", "3/minute")  # fewer slow argon2 checks
    client = make_client(None)
    statuses = [_attempt(client, f"nobody{i}", "x").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = _attempt(client, ADMIN[0], ADMIN[1])
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers


def test_csrf_missing_or_wrong_is_refused_with_a_page(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(None)
    client.get("/console/login")
    for value in ("", "forged"):
        response = client.post(
            "/console/login",
            data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": value},
        )
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
        assert CsrfFailed().message("ja") in response.text
    english = client.post(
        "/console/login",
        data={"username": ADMIN[0], "password": ADMIN[1]},
        headers={"Accept-Language": "en"},
    )
    assert CsrfFailed().message("en") in english.text


def test_logout_is_a_post_with_csrf(admin: TestClient) -> None:
    assert admin.get("/console/logout").status_code == 405
    assert admin.post("/console/logout", data={"csrf_token": "nope"}).status_code == 403
    response = admin.post("/console/logout", data={"csrf_token": token(admin)})
    assert str(response.url).endswith("/console/login")
    assert "ログアウトしました。" in response.text
    assert admin.get("/console/audit", follow_redirects=False).status_code == 303


def test_idle_session_ends(admin: TestClient, clock: FakeClock) -> None:
    assert admin.get("/console/audit").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = admin.get("/console/audit")
    assert "/console/login" in str(response.url)
    assert "一定時間操作がなかったため" in response.text


def test_password_change_signs_other_sessions_out(app: FastAPI, admin: TestClient) -> None:
    from cssec.web.security import hash_password  # noqa: PLC0415

    with vendor_of(app).session() as session:
        user = session.scalar(select(User).where(User.name == ADMIN[0]))
        assert user is not None
        user.password_hash = hash_password("a brand new password")
        session.commit()
    assert admin.get("/console/audit", follow_redirects=False).status_code == 303


def test_staff_gets_403_on_admin_actions(
    staff: TestClient, contract: services.IssuedContract
) -> None:
    cid = contract.contract_id
    csrf = token(staff)
    refused = [
        staff.get("/console/contracts/new"),
        staff.post("/console/contracts/new", data={"csrf_token": csrf, "customer": "x"}),
        staff.get(f"/console/contracts/{cid}/renew"),
        staff.post(
            f"/console/contracts/{cid}/renew",
            data={"csrf_token": csrf, "months": "12", "confirm": "yes"},
        ),
        staff.get("/console/codes/1/revoke"),
        staff.post(
            "/console/codes/1/revoke",
            data={"csrf_token": csrf, "reason": "x", "understood": "yes", "confirm": "yes"},
        ),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "管理者 (admin) 権限が必要です" in response.text
    # Staff may look, inspect and reissue; the admin-only buttons are not offered.
    page = staff.get(f"/console/contracts/{cid}")
    assert page.status_code == 200
    assert 'data-testid="renew"' not in page.text
    assert "/revoke" not in page.text
    assert 'data-testid="reissue"' in page.text
    assert staff.get(f"/console/contracts/{cid}/reissue").status_code == 200


def test_language_switch_to_english_and_back(admin: TestClient) -> None:
    response = admin.post(
        "/console/language",
        data={"lang": "en", "csrf_token": token(admin), "next": "/console/audit"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/audit"
    page = admin.get("/console/audit")
    assert "Audit log" in page.text
    assert '<html lang="en">' in page.text
    admin.post("/console/language", data={"lang": "ja", "csrf_token": token(admin)})
    assert "監査ログ" in admin.get("/console/audit").text
