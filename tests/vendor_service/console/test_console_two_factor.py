"""Support-desk staff sign in with a second factor: TOTP enrolment (secret and QR shown,
confirmed by a code), the code asked after the password (RFC 6238 drift of one step, a
reused code refused), single-use recovery codes, the require-for-all setting, rate limits,
and the admin's reset. Codes come from pyotp; the fake clock moves the 30-second windows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import STAFF, csrf_of, vendor_of
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.vendor_service.models import AuditEntry, RecoveryCode, User
from cssec.vendor_service.services import two_factor

_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7]+)<')


def _password(client: TestClient, who: tuple[str, str] = STAFF) -> object:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": who[0], "password": who[1], "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def _signed_in(client: TestClient) -> bool:
    return client.get("/console/", follow_redirects=False).status_code == 200


def _enrol(client: TestClient, clock: FakeClock) -> tuple[str, list[str]]:
    page = client.get("/console/account/two-factor")
    assert page.status_code == 200
    assert "<svg" in page.text, "the QR code"
    found = _SECRET.search(page.text)
    assert found
    secret = found.group(1)
    wrong = client.post(
        "/console/account/two-factor", data={"code": "000000", "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).at(clock.now())
    done = client.post(
        "/console/account/two-factor", data={"code": code, "csrf_token": csrf_of(wrong.text)}
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def _second_step(client: TestClient, code: str) -> object:
    page = client.get("/console/login/second-factor")
    assert page.status_code == 200
    return client.post(
        "/console/login/second-factor",
        data={"code": code, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def test_enrolment_then_the_code_is_required_with_drift_and_no_reuse(
    app: FastAPI, staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    secret, _codes = _enrol(staff, clock)
    with vendor_of(app).session() as session:
        user = session.scalars(select(User).where(User.name == STAFF[0])).one()
        assert user.totp_secret == secret
        hashes = session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10
        assert all(h.startswith("$argon2") for h in hashes)
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.2fa_enrolled")
        ).all()
    page = staff.get("/console/account/two-factor")
    assert "totp-secret" not in page.text, "the secret is shown once"

    totp = pyotp.TOTP(secret)
    clock.advance(timedelta(minutes=2))
    browser = make_client(None)
    answer = _password(browser)
    assert answer.headers["location"].endswith("/console/login/second-factor")  # type: ignore[attr-defined]
    assert not _signed_in(browser), "the password alone signs nobody in"
    previous = totp.at(clock.now() - timedelta(seconds=30))
    ok = _second_step(browser, previous)
    assert ok.status_code == 303  # type: ignore[attr-defined]
    assert _signed_in(browser)

    again = make_client(None)
    _password(again)
    reused = _second_step(again, previous)
    assert reused.status_code == 401, "a code already used is refused"  # type: ignore[attr-defined]
    assert not _signed_in(again)
    too_old = _second_step(again, totp.at(clock.now() - timedelta(seconds=60)))
    assert too_old.status_code == 401  # type: ignore[attr-defined]
    following = _second_step(again, totp.at(clock.now() + timedelta(seconds=30)))
    assert following.status_code == 303  # type: ignore[attr-defined]
    assert _signed_in(again)


def test_recovery_codes_sign_in_once_each(
    app: FastAPI, staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    _secret, codes = _enrol(staff, clock)
    browser = make_client(None)
    _password(browser)
    used = _second_step(browser, codes[3].lower().replace("-", " "))
    assert used.status_code == 303  # type: ignore[attr-defined]
    assert "9" in browser.get("/console/").text
    other = make_client(None)
    _password(other)
    assert _second_step(other, codes[3]).status_code == 401  # type: ignore[attr-defined]
    with vendor_of(app).session() as session:
        assert (
            len(
                session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
            )
            == 1
        )


def test_staff_without_a_second_factor_still_log_in_by_password(staff: TestClient) -> None:
    assert _signed_in(staff)


def test_the_setting_requires_every_staff_member_to_enrol(
    app: FastAPI,
    make_client: Callable[..., TestClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(vendor_of(app).settings, "console_require_totp", True)
    browser = make_client(None)
    answer = _password(browser)
    assert answer.headers["location"].endswith("/console/account/two-factor")  # type: ignore[attr-defined]
    assert not _signed_in(browser)
    _enrol(browser, clock)
    assert _signed_in(browser)


def test_a_pending_sign_in_expires(
    app: FastAPI, staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    secret, _codes = _enrol(staff, clock)
    browser = make_client(None)
    _password(browser)
    clock.advance(timedelta(minutes=6))
    page = browser.get("/console/login/second-factor", follow_redirects=False)
    assert page.headers["location"].endswith("/console/login")
    assert not _signed_in(browser)
    assert secret


def test_code_attempts_are_rate_limited(
    app: FastAPI, staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    _enrol(staff, clock)
    browser = make_client(None)
    _password(browser)
    page = browser.get("/console/login/second-factor")
    form = {"code": "000000", "csrf_token": csrf_of(page.text)}
    statuses = [
        browser.post("/console/login/second-factor", data=form).status_code for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


def test_an_admin_resets_a_lost_second_factor(
    app: FastAPI, staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    _enrol(staff, clock)
    with vendor_of(app).session() as session:
        two_factor.reset(session, STAFF[0], actor="cli:admin")
    assert not _signed_in(staff), "the reset ends the user's sessions"
    browser = make_client(None)
    answer = _password(browser)
    assert answer.headers["location"].endswith("/console/")  # type: ignore[attr-defined]
    with vendor_of(app).session() as session:
        assert session.scalars(select(RecoveryCode)).all() == []
        with pytest.raises(two_factor.UnknownUser):
            two_factor.reset(session, "nobody", actor="cli:admin")


def test_matching_step_window() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    secret = pyotp.random_base32()
    now = datetime(2026, 12, 3, 7, 0, 15, tzinfo=UTC)
    totp = pyotp.TOTP(secret)
    step = two_factor.time_step(now)
    for offset in (-1, 0, 1):
        code = totp.at(now + timedelta(seconds=30 * offset))
        assert two_factor.matching_step(secret, code, now=now, after=None) == step + offset
        assert two_factor.matching_step(secret, code, now=now, after=step + offset) is None
    assert (
        two_factor.matching_step(secret, totp.at(now - timedelta(seconds=60)), now=now, after=None)
        is None
    )
    assert two_factor.matching_step(secret, "12345", now=now, after=None) is None


def test_cli_reset_2fa(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path  # noqa: PLC0415

    from cssec.vendor_service.cli import app as cli  # noqa: PLC0415

    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    data = Path(str(tmp_path)) / "cli-vendor"
    password = Path(str(tmp_path)) / "pw"
    password.write_text("long enough password\n")
    runner = CliRunner()
    added = runner.invoke(
        cli, ["user", "add", "carol", "--password-file", str(password), "--data", str(data)]
    )
    assert added.exit_code == 0, added.output
    reset = runner.invoke(cli, ["user", "reset-2fa", "carol", "--data", str(data)])
    assert reset.exit_code == 0, reset.output
    assert "second factor reset: carol" in reset.stdout
    unknown = runner.invoke(cli, ["user", "reset-2fa", "nobody", "--data", str(data)])
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: unknown_user:")


def test_the_session_cookie_does_not_carry_the_setup_secret(
    staff: TestClient, clock: FakeClock
) -> None:
    """The cookie is signed, not encrypted: whoever reads it (a proxy log, a stolen
    cookie) must not learn the TOTP secret being enrolled."""
    import base64  # noqa: PLC0415
    import json  # noqa: PLC0415

    page = staff.get("/console/account/two-factor")
    found = _SECRET.search(page.text)
    assert found
    secret = found.group(1)
    again = _SECRET.search(staff.get("/console/account/two-factor").text)
    assert again
    assert again.group(1) == secret, "the same secret until enrolment ends"
    cookie = staff.cookies.get("cssec_console")
    assert cookie
    payload = cookie.split(".")[0]
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert secret not in cookie
    assert secret not in json.dumps(session)
    assert base64.b32decode(secret).hex() not in json.dumps(session)
    code = pyotp.TOTP(secret).at(clock.now())
    done = staff.post(
        "/console/account/two-factor", data={"code": code, "csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 200, done.text
