"""The console's second factor attacked over HTTP by someone who already has a staff
member's password: skip the code step, replace the factor, guess codes for days, race a
code or a recovery code, forge the step's CSRF token.

Already covered in tests/vendor_service/console/test_console_two_factor.py and not
repeated: a reused code in the same window, a recovery code used twice in turn, the pending
sign-in expiring, five wrong codes a minute from one browser. The real vendor app (SQLite,
fake clock); TOTP codes from pyotp at the fake clock's time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.hostile import csrf_of, postgres_database, vendor_of, vendor_settings

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.app import create_app
from cssec.vendor_service.console import (
    actions,
    auth,
    contact,
    offline_renewal,
    pages,
    second_factor,
    tokens,
    usage,
    webhooks,
)
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, Contract, RecoveryCode, User
from cssec.vendor_service.services import IssuedContract, two_factor

STAFF = ("bob", "staple battery horse")
SECRET = pyotp.random_base32(32)
_FILL = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


@pytest.fixture
def recovery(vendor_app: FastAPI, clock: FakeClock) -> list[str]:
    """Bob, staff, enrolled with SECRET; his ten recovery codes."""
    vendor = vendor_of(vendor_app)
    with vendor.session() as session:
        services.add_user(session, name=STAFF[0], password=STAFF[1], role="admin", actor="test")
    with vendor.session() as session:
        uid = session.scalar(select(User.id).where(User.name == STAFF[0]))
        assert uid is not None
        earlier = clock.now() - timedelta(minutes=5)  # a step long past: today's codes unused
        return two_factor.enroll(
            session, uid, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier,
            actor="test",
        )  # fmt: skip


@pytest.fixture
def browser(vendor_app: FastAPI) -> Callable[[str], TestClient]:
    def make(ip: str = "198.51.100.40") -> TestClient:
        return TestClient(vendor_app, raise_server_exceptions=False, client=(ip, 50000))

    return make


def password_step(client: TestClient) -> httpx.Response:
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.headers["location"].endswith("/console/login/second-factor"), response
    return response


def code_step(client: TestClient, code: str, token: str | None = None) -> httpx.Response:
    if token is None:
        token = csrf_of(client.get("/console/login/second-factor").text)
    return client.post(
        "/console/login/second-factor",
        data={"code": code, "csrf_token": token},
        follow_redirects=False,
    )


def signed_in(client: TestClient) -> bool:
    return client.get("/console/", follow_redirects=False).status_code == 200


def state(app: FastAPI) -> dict[str, Any]:
    with vendor_of(app).session() as session:
        user = session.scalar(select(User).where(User.name == STAFF[0]))
        assert user is not None
        return {
            "contracts": session.scalar(select(func.count(Contract.id))),
            "codes": session.scalar(select(func.count(ActivationCodeRow.id))),
            "audit": session.scalar(select(func.count(AuditEntry.id))),
            "users": session.scalar(select(func.count(User.id))),
            "secret": user.totp_secret,
            "step": user.totp_last_step,
            "recovery_used": session.scalar(
                select(func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_not(None))
            ),
        }


def _console_routes(method: str, contract: IssuedContract) -> list[str]:
    """Every console page (from the console's routers, so new pages are covered too)."""
    skip = {"/console/login", "/console/login/second-factor", "/console/language"}
    paths = []
    modules = (actions, auth, contact, offline_renewal, pages, second_factor, tokens, usage,
               webhooks)  # fmt: skip
    for route in (r for m in modules for r in m.router.routes):
        if not isinstance(route, APIRoute) or method not in route.methods:
            continue
        if not route.path.startswith("/console") or route.path in skip:
            continue
        paths.append(_FILL.sub(lambda m: str(contract.contract_id), route.path))
    assert len(paths) > 5, paths
    return paths


def test_the_pending_sign_in_opens_no_console_page_and_does_nothing(
    vendor_app: FastAPI, contract: IssuedContract, recovery: list[str],
    browser: Callable[[str], TestClient],
) -> None:  # fmt: skip
    attacker = browser("192.0.2.50")
    password_step(attacker)
    token = csrf_of(attacker.get("/console/login/second-factor").text)
    before = state(vendor_app)
    for path in _console_routes("GET", contract):
        response = attacker.get(path)
        assert response.status_code != 200 or response.url.path == "/console/login", path
        assert SECRET not in response.text
    for path in _console_routes("POST", contract):
        response = attacker.post(
            path,
            data={"csrf_token": token, "months": "12", "confirm": "yes", "product": "CS",
                  "code": "123456", "name": "mallory", "password": "x" * 20, "role": "admin"},
            follow_redirects=False,
        )  # fmt: skip
        assert response.status_code not in {200, 201}, path
        if response.status_code in {302, 303}:
            assert "/console/login" in response.headers["location"], path
    assert state(vendor_app) == before
    assert not signed_in(attacker)


def test_a_pending_sign_in_cannot_enrol_a_new_second_factor(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock,
) -> None:  # fmt: skip
    attacker = browser("192.0.2.51")
    password_step(attacker)
    token = csrf_of(attacker.get("/console/login/second-factor").text)
    setup = attacker.get("/console/account/two-factor", follow_redirects=False)
    assert setup.status_code in {302, 303}
    assert 'data-testid="totp-secret"' not in setup.text
    mine = pyotp.random_base32(32)
    # Nor can the pending session enrol a secret of the attacker's choosing.
    enrol = attacker.post(
        "/console/account/two-factor",
        data={"code": pyotp.TOTP(mine).at(clock.now()), "csrf_token": token},
        follow_redirects=False,
    )
    assert enrol.status_code in {302, 303}
    assert state(vendor_app)["secret"] == SECRET
    assert not signed_in(attacker)


def test_guessing_codes_for_a_day_from_many_addresses_gets_few_guesses(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The per-minute rate limits count wall-clock minutes; raised here, they stand for the
    minutes the fake clock moves. What must bound a patient guesser is the account's own
    back-off: over a day, a few dozen checked guesses, not 5 a minute (7,200 a day, a 2 %
    chance of a hit) whatever the number of addresses."""
    monkeypatch.setattr(second_factor, "CODE_LIMIT_PER_IP", "100000/minute")
    monkeypatch.setattr(second_factor, "CODE_LIMIT_PER_USER", "100000/minute")
    end = clock.now() + timedelta(days=1)
    checked = refused = 0
    address = 0
    attacker = browser("203.0.113.1")
    password_step(attacker)
    token = csrf_of(attacker.get("/console/login/second-factor").text)
    while clock.now() < end and checked + refused < 400:
        right = pyotp.TOTP(SECRET).at(clock.now())
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        answer = code_step(attacker, wrong, token)
        if answer.status_code == 401:
            checked += 1
        elif answer.status_code == 429:
            refused += 1
            clock.advance(timedelta(seconds=int(answer.headers["retry-after"])))
        else:  # the pending sign-in expired: the password again, from a new address
            address += 1
            attacker = browser(f"203.0.113.{address % 250 + 1}")
            password_step(attacker)
            token = csrf_of(attacker.get("/console/login/second-factor").text)
    assert checked <= 60, (checked, refused)
    assert not signed_in(attacker)
    # The owner, once the back-off has passed, signs in with the right code.
    clock.advance(timedelta(hours=2))
    owner = browser("198.51.100.41")
    password_step(owner)
    assert code_step(owner, pyotp.TOTP(SECRET).at(clock.now())).status_code == 303
    assert signed_in(owner)


def test_the_right_code_is_refused_once_the_guesses_ran_out(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(second_factor, "CODE_LIMIT_PER_IP", "100000/minute")
    monkeypatch.setattr(second_factor, "CODE_LIMIT_PER_USER", "100000/minute")
    for i in range(5):
        guesser = browser(f"203.0.113.{10 + i}")
        password_step(guesser)
        assert code_step(guesser, "000000").status_code == 401
    lucky = browser("203.0.113.20")
    password_step(lucky)
    assert code_step(lucky, pyotp.TOTP(SECRET).at(clock.now())).status_code == 429
    assert not signed_in(lucky)
    assert state(vendor_app)["step"] is not None


def _race(make: Callable[[], httpx.Response], n: int = 4) -> list[httpx.Response]:
    gate = threading.Barrier(n)
    results: list[httpx.Response | None] = [None] * n

    def go(i: int) -> None:
        gate.wait()
        results[i] = make()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_one_code_raced_from_four_browsers_signs_in_once(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock, kind: str,
) -> None:  # fmt: skip
    clients = [browser(f"198.51.100.{60 + i}") for i in range(4)]
    tokens = []
    for client in clients:
        password_step(client)
        tokens.append(csrf_of(client.get("/console/login/second-factor").text))
    code = pyotp.TOTP(SECRET).at(clock.now()) if kind == "totp" else recovery[0]
    pending = iter(range(4))
    lock = threading.Lock()

    def attempt() -> httpx.Response:
        with lock:
            i = next(pending)
        return code_step(clients[i], code, tokens[i])

    answers = _race(attempt)
    assert sorted(a.status_code for a in answers) == [303, 401, 401, 401]
    assert sum(signed_in(c) for c in clients) == 1
    if kind == "recovery":
        assert state(vendor_app)["recovery_used"] == 1


def test_the_code_step_refuses_missing_forged_and_foreign_tokens(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock,
) -> None:  # fmt: skip
    other = browser("198.51.100.70")
    password_step(other)
    foreign = csrf_of(other.get("/console/login/second-factor").text)
    victim = browser("198.51.100.71")
    password_step(victim)
    code = pyotp.TOTP(SECRET).at(clock.now())
    before = state(vendor_app)
    for token in ("", "forged", foreign):
        answer = code_step(victim, code, token)
        assert answer.status_code == 403
        assert not signed_in(victim)
    for token in ("", "forged"):
        assert (
            victim.post(
                "/console/account/two-factor", data={"code": code, "csrf_token": token}
            ).status_code
            == 403
        )
    assert state(vendor_app) == before  # the code was not used up by the forged posts
    assert code_step(victim, code).status_code == 303


@pytest.fixture
def postgres_vendor(tmp_path: Path, clock: FakeClock) -> Iterator[FastAPI]:
    """The vendor on PostgreSQL, where two transactions really run side by side."""
    with postgres_database() as url:
        settings = vendor_settings(tmp_path / "vendor").model_copy(update={"database_url": url})
        app = create_app(settings, clock=clock)
        try:
            yield app
        finally:
            app.state.vendor.close()


@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_one_code_raced_on_postgresql_is_used_once(
    postgres_vendor: FastAPI, clock: FakeClock, kind: str
) -> None:
    vendor = vendor_of(postgres_vendor)
    with vendor.session() as session:
        services.add_user(session, name=STAFF[0], password=STAFF[1], role="staff", actor="test")
    with vendor.session() as session:
        uid = session.scalar(select(User.id).where(User.name == STAFF[0]))
        assert uid is not None
        earlier = clock.now() - timedelta(minutes=5)
        codes = two_factor.enroll(
            session, uid, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier,
            actor="test",
        )  # fmt: skip
    code = pyotp.TOTP(SECRET).at(clock.now()) if kind == "totp" else codes[9]
    gate = threading.Barrier(4)
    proved: list[object] = []

    def use() -> None:
        gate.wait()
        with vendor.session() as session:
            proved.append(two_factor.verify(session, uid, code, now=clock.now()))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(p is not None for p in proved) == 1, proved


def test_a_pending_enrolment_cannot_replace_a_factor_enrolled_meanwhile(
    vendor_app: FastAPI, browser: Callable[[str], TestClient], clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With every staff member required to enrol: the attacker, who has only the password,
    starts the enrolment the first sign-in asks for; the owner enrols from their own
    browser meanwhile. The attacker's enrolment must not replace the owner's factor."""
    monkeypatch.setattr(vendor_of(vendor_app).settings, "console_require_totp", True)
    with vendor_of(vendor_app).session() as session:
        services.add_user(session, name=STAFF[0], password=STAFF[1], role="staff", actor="test")
    attacker = browser("192.0.2.80")
    page = attacker.get("/console/login")
    first = attacker.post(
        "/console/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert first.headers["location"].endswith("/console/account/two-factor")
    setup = attacker.get("/console/account/two-factor")
    found = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup.text)
    assert found
    with vendor_of(vendor_app).session() as session:  # the owner, elsewhere
        uid = session.scalar(select(User.id).where(User.name == STAFF[0]))
        assert uid is not None
        two_factor.enroll(
            session, uid, secret=SECRET, code=pyotp.TOTP(SECRET).at(clock.now()),
            now=clock.now(), actor="console:bob",
        )  # fmt: skip
    clock.advance(timedelta(seconds=30))
    enrol = attacker.post(
        "/console/account/two-factor",
        data={"code": pyotp.TOTP(found.group(1)).at(clock.now()),
              "csrf_token": csrf_of(setup.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert enrol.status_code in {302, 303}
    assert state(vendor_app)["secret"] == SECRET
    assert not signed_in(attacker)


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/console/", "/\\evil.example", "/portal/"]
)
def test_the_code_step_never_sends_the_browser_off_the_console(
    vendor_app: FastAPI, recovery: list[str], browser: Callable[[str], TestClient],
    clock: FakeClock, target: str,
) -> None:  # fmt: skip
    client = browser("198.51.100.90")
    page = client.get("/console/login", params={"next": target})
    client.post(
        "/console/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf_token": csrf_of(page.text),
              "next": target},
        follow_redirects=False,
    )  # fmt: skip
    done = code_step(client, pyotp.TOTP(SECRET).at(clock.now()))
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("/console/"), location
    assert "evil" not in location
