"""The vendor's support-desk console over HTTP: CSRF, session fixation, brute force, roles.

Already covered in tests/vendor_service/console/ and not repeated here: a missing or forged token
on the login form (test_console_auth.py::test_csrf_missing_or_wrong_is_refused_with_a_page)
and on renew (test_console_actions.py::test_renew_rejects_bad_months_and_bad_csrf); the
session cookie and CSRF token changing at login (test_login_rotates_the_session_and_returns
_to_next); lockout and per-IP limit (test_lockout_after_repeated_failures_then_opens_again,
test_per_ip_rate_limit); the 403 status of each admin-only action for staff
(test_staff_gets_403_on_admin_actions). Here: every state-changing form against a missing,
wrong and *another session's* token with nothing changed; the planted pre-login cookie
replayed after the victim logs in; a locked account's answer against an unknown user's;
staff with valid tokens and complete confirmations changing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.hostile import csrf_of, vendor_of

from cssec.core.errors import CsrfFailed
from cssec.vendor_service import services
from cssec.vendor_service.console import auth
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, Contract
from cssec.web.i18n import LANG_COOKIE

ADMIN = ("alice", "correct horse battery")
STAFF = ("bob", "staple battery horse")
COOKIE = "cssec_console"
HOST = "testserver.local"  # the cookie domain starlette's TestClient stores


@dataclass(frozen=True)
class Snapshot:
    contracts: int
    codes: int
    revoked: int
    audit: int
    ends: tuple[str, ...]


def snapshot(app: FastAPI) -> Snapshot:
    with vendor_of(app).session() as session:
        return Snapshot(
            contracts=session.scalar(select(func.count(Contract.id))) or 0,
            codes=session.scalar(select(func.count(ActivationCodeRow.id))) or 0,
            revoked=session.scalar(
                select(func.count(ActivationCodeRow.id)).where(
                    ActivationCodeRow.revoked_at.is_not(None)
                )
            )
            or 0,
            audit=session.scalar(select(func.count(AuditEntry.id))) or 0,
            ends=tuple(
                end.isoformat()
                for end in session.scalars(select(Contract.ends_on).order_by(Contract.id))
            ),
        )


@pytest.fixture
def accounts(vendor_app: FastAPI) -> None:
    with vendor_of(vendor_app).session() as session:
        services.add_user(session, name=ADMIN[0], password=ADMIN[1], role="admin", actor="test")
    with vendor_of(vendor_app).session() as session:
        services.add_user(session, name=STAFF[0], password=STAFF[1], role="staff", actor="test")


def attempt(client: TestClient, name: str, password: str) -> tuple[int, str]:
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
    )
    return response.status_code, response.text


def login(client: TestClient, who: tuple[str, str]) -> TestClient:
    status, _ = attempt(client, *who)
    assert status == 200
    return client


@pytest.fixture
def make_client(vendor_app: FastAPI, accounts: None) -> Callable[..., TestClient]:
    def make(who: tuple[str, str] | None = None) -> TestClient:
        client = TestClient(vendor_app, raise_server_exceptions=False)
        return login(client, who) if who else client

    return make


def _code_id(app: FastAPI, contract_id: int, product: str) -> int:
    with vendor_of(app).session() as session:
        code_id = session.scalar(
            select(ActivationCodeRow.id).where(
                ActivationCodeRow.contract_id == contract_id,
                ActivationCodeRow.product == product,
                ActivationCodeRow.revoked_at.is_(None),
            )
        )
        assert code_id is not None
        return code_id


def _forms(app: FastAPI, contract: services.IssuedContract) -> list[tuple[str, dict[str, str]]]:
    """Every state-changing console form, filled in as its final confirmation."""
    cid = contract.contract_id
    return [
        (
            "/console/contracts/new",
            {
                "customer": "偽造株式会社",
                "seats": "10",
                "months": "12",
                "start": "2027-01-01",
                "with_dcs": "yes",
                "confirm": "yes",
            },
        ),
        (
            f"/console/contracts/{cid}/renew",
            {"months": "12", "expected_end": contract.end.isoformat(), "confirm": "yes"},
        ),
        (f"/console/contracts/{cid}/reissue", {"product": "DCS", "confirm": "yes"}),
        (
            f"/console/codes/{_code_id(app, cid, 'CS')}/revoke",
            {"reason": "偽造", "understood": "yes", "confirm": "yes"},
        ),
    ]


def test_every_form_refuses_missing_wrong_and_foreign_csrf_tokens(
    vendor_app: FastAPI,
    make_client: Callable[..., TestClient],
    contract: services.IssuedContract,
) -> None:
    victim = make_client(ADMIN)
    attacker = make_client(ADMIN)  # a valid token, but of another session
    foreign = csrf_of(attacker.get("/console/").text)
    for url, form in _forms(vendor_app, contract):
        before = snapshot(vendor_app)
        for token in ("", "forged", foreign):
            refused = victim.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
            assert refused.status_code == 403, (url, token, refused.text)
            assert CsrfFailed().message("ja") in refused.text
            assert snapshot(vendor_app) == before, (url, token)
        # The control: the same form with the session's own token goes through.
        done = victim.post(
            url,
            data={**form, "csrf_token": csrf_of(victim.get("/console/").text)},
            follow_redirects=False,
        )
        assert done.status_code == 303, (url, done.text)
        assert snapshot(vendor_app) != before, url
    for url, form in (("/console/language", {"lang": "en"}), ("/console/logout", {})):
        for token in ("", "forged", foreign):
            refused = victim.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
            assert refused.status_code == 403, (url, token)
            assert LANG_COOKIE not in refused.headers.get("set-cookie", "")
        assert victim.get("/console/audit", follow_redirects=False).status_code == 200
    assert '<html lang="ja">' in victim.get("/console/audit").text


def test_a_planted_pre_login_cookie_is_no_login(make_client: Callable[..., TestClient]) -> None:
    """Session fixation: the attacker fetches the login page, plants that cookie in the
    victim's browser, the victim logs in; the attacker's copy stays logged out."""
    attacker = make_client()
    attacker.get("/console/login")
    planted = attacker.cookies.get(COOKIE)
    assert planted
    victim = make_client()
    victim.cookies.set(COOKIE, planted, domain=HOST, path="/console")
    login(victim, ADMIN)
    assert victim.cookies.get(COOKIE) != planted
    assert victim.get("/console/audit", follow_redirects=False).status_code == 200
    response = attacker.get("/console/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")


def test_a_cookie_copied_before_logout_is_dead_after_it(
    make_client: Callable[..., TestClient],
) -> None:
    victim = make_client(ADMIN)
    copied = victim.cookies.get(COOKIE)
    assert copied
    victim.post("/console/logout", data={"csrf_token": csrf_of(victim.get("/console/").text)})
    assert victim.get("/console/audit", follow_redirects=False).status_code == 303
    thief = make_client()
    thief.cookies.set(COOKIE, copied, domain=HOST, path="/console")
    assert thief.get("/console/audit", follow_redirects=False).status_code == 303


def _login_error(html: str) -> str:
    return html.split('data-testid="login-error">')[1].split("<", maxsplit=1)[0]


def test_a_locked_account_answers_like_an_unknown_user(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Brute force: after the failures the right password is refused too, and neither the
    status nor the message tells a locked real account from a name that does not exist."""
    monkeypatch.setattr(auth, "MAX_FAILURES", 3)  # fewer argon2 checks; per-IP limit is 10
    client = make_client()
    for _ in range(3):
        assert attempt(client, ADMIN[0], "wrong guess")[0] == 401
        assert attempt(client, "mallory", "wrong guess")[0] == 401
    locked_status, locked_page = attempt(client, ADMIN[0], ADMIN[1])
    unknown_status, unknown_page = attempt(client, "mallory", ADMIN[1])
    assert locked_status == unknown_status == 401
    assert _login_error(locked_page) == _login_error(unknown_page)
    assert client.get("/console/audit", follow_redirects=False).status_code == 303


def test_staff_with_valid_tokens_changes_nothing(
    vendor_app: FastAPI,
    make_client: Callable[..., TestClient],
    contract: services.IssuedContract,
) -> None:
    """A support-desk account without the admin role: new contract, renew and revoke, each
    with the session's own token and a complete confirmation, are 403 and change nothing."""
    staff = make_client(STAFF)
    before = snapshot(vendor_app)
    admin_only = [f for f in _forms(vendor_app, contract) if "/reissue" not in f[0]]
    assert len(admin_only) == 3
    for url, form in admin_only:
        token = csrf_of(staff.get("/console/").text)
        refused = staff.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403, url
        assert "管理者 (admin) 権限が必要です" in refused.text
        assert snapshot(vendor_app) == before, url
