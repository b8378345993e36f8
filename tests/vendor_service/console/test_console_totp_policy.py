"""Issue 22, item 4: a second factor ends the sessions opened without it, and the console
requires one by default.

Before: a password-only session opened before the user enrolled still answered 200 after
the enrolment; `console_require_totp` was off by default. After: enrolling (or an
administrator's reset) ends every other session of the user; by default every staff
member, admins first, enrols right after the password and reaches nothing else first; the
opt-out is warned about at start (log and stderr).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import ADMIN, STAFF, csrf_of, vendor_of
from tests.vendor_service.console.test_console_two_factor import (
    _enrol,
    _password,
    _second_step,
    _signed_in,
)
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.vendor_service.app import create_app
from cssec.vendor_service.console import TOTP_OFF_WARNING
from cssec.vendor_service.services import add_user, two_factor
from cssec.vendor_service.settings import VendorSettings


def _require(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped default (the shared fixtures opt out to sign in by password)."""
    monkeypatch.setattr(vendor_of(app).settings, "console_require_totp", True)


def test_the_shipped_default_requires_a_second_factor(tmp_path: Path) -> None:
    assert VendorSettings(data_dir=tmp_path).console_require_totp is True


def test_enrolling_ends_a_password_only_session_opened_before(
    staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    before = make_client(STAFF)  # e.g. a stolen password, used before the owner enrols
    assert before.get("/console/", follow_redirects=False).status_code == 200
    _enrol(staff, clock)
    answer = before.get("/console/", follow_redirects=False)
    assert answer.status_code == 303
    assert "/console/login" in answer.headers["location"]
    assert before.get("/console/audit", follow_redirects=False).status_code == 303
    assert _signed_in(staff), "the browser that enrolled goes on"


def test_removing_the_second_factor_ends_every_session(
    staff: TestClient, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    secret, _codes = _enrol(staff, clock)
    other = make_client(None)
    _password(other)
    clock.advance(timedelta(seconds=30))
    assert _second_step(other, pyotp.TOTP(secret).at(clock.now())).status_code == 303  # type: ignore[attr-defined]
    assert _signed_in(other)
    assert _signed_in(staff)
    with vendor_of(other.app).session() as session:  # type: ignore[arg-type]
        two_factor.reset(session, STAFF[0], actor="cli:admin")
    assert not _signed_in(other)
    assert not _signed_in(staff)


def test_an_admin_without_a_second_factor_is_sent_to_enrolment_and_nothing_else(
    app: FastAPI,
    make_client: Callable[..., TestClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _require(app, monkeypatch)
    browser = make_client(None)
    answer = _password(browser, ADMIN)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"].endswith("/console/account/two-factor")  # type: ignore[attr-defined]
    for path in ("/console/", "/console/audit", "/console/contracts/new", "/console/webhooks"):
        page = browser.get(path, follow_redirects=False)
        assert page.status_code in {303, 403, 404}, path
        assert page.status_code != 200, path
    token = csrf_of(browser.get("/console/account/two-factor").text)
    refused = browser.post(
        "/console/contracts/new",
        data={"customer": "x", "seats": "1", "months": "12", "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    assert "/console/login" in refused.headers["location"]
    _enrol(browser, clock)
    assert _signed_in(browser)


def test_a_session_from_before_the_policy_ends_when_it_is_turned_on(
    app: FastAPI, admin: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _signed_in(admin)
    _require(app, monkeypatch)
    assert not _signed_in(admin)


def test_the_opt_out_is_warned_about_at_start(
    settings: VendorSettings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert settings.console_require_totp is False
    with caplog.at_level(logging.WARNING, logger="cssec.vendor_service.console"):
        application = create_app(settings, clock=clock)
    application.state.vendor.close()
    assert TOTP_OFF_WARNING in caplog.text
    assert "CONSOLE_REQUIRE_TOTP is off" in capsys.readouterr().err
    caplog.clear()
    on = settings.model_copy(update={"console_require_totp": True})
    with caplog.at_level(logging.WARNING, logger="cssec.vendor_service.console"):
        application = create_app(on, clock=clock)
    application.state.vendor.close()
    assert TOTP_OFF_WARNING not in caplog.text


def test_the_shell_enrols_a_first_administrator(
    app: FastAPI,
    settings: VendorSettings,
    make_client: Callable[..., TestClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the demo does: `cssec vendor user enrol-2fa NAME` prints the secret once."""
    from cssec.vendor_service.cli import app as cli  # noqa: PLC0415

    if settings.database_url is not None:
        pytest.skip("the CLI is driven on SQLite")
    with vendor_of(app).session() as session:
        add_user(session, name="carol", password="battery horse staple", role="admin",
                 actor="test")  # fmt: skip
    runner = CliRunner()
    data = ["--data", str(settings.data_dir)]
    done = runner.invoke(cli, ["--lang", "en", "user", "enrol-2fa", "carol", *data])
    assert done.exit_code == 0, done.output
    secret = re.search(r"totp secret: ([A-Z2-7]{32})", done.output)
    assert secret, done.output
    assert "otpauth://totp/" in done.output
    again = runner.invoke(cli, ["--lang", "en", "user", "enrol-2fa", "carol", *data])
    assert again.exit_code == 1
    assert "second_factor_present" in again.output
    assert "reset-2fa carol" in again.output
    _require(app, monkeypatch)
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the CLI enrolled at the real time
    browser = make_client(None)
    answer = _password(browser, ("carol", "battery horse staple"))
    assert answer.headers["location"].endswith("/console/login/second-factor")  # type: ignore[attr-defined]
    code = pyotp.TOTP(secret.group(1)).at(clock.now())
    assert _second_step(browser, code).status_code == 303  # type: ignore[attr-defined]
    assert _signed_in(browser)
