"""In a real browser against real processes (a vendor, a server installed by the CLI and
serving on loopback ports, as tests/e2e/server does): the login lockout of the support-desk
console and of the Web manager, and forged cross-origin form posts to the Web manager.
Screenshots go to test-artifacts/hostile/."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers.e2e_server import PASSWORD, Stack, running_stack
from tests.helpers.vendor_pages import CHROMIUM, CHROMIUM_ARGS

from cssec.core.errors import CsrfFailed
from cssec.vendor_service import services

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "hostile"
DESK = ("desk-admin", "browser desk password")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Plain HTTP (--insecure-http): about CSRF and lockout; HTTPS in the browser has
    # tests/e2e/server/test_server_browser.py.
    with running_stack(tmp_path_factory.mktemp("hostile-browser"), tls=False) as running:
        with running.vendor.session() as session:
            services.add_user(session, name=DESK[0], password=DESK[1], role="admin", actor="t")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _slot_code(stack: Stack) -> str:
    licenses = httpx.get(
        f"{stack.server_url}/api/v1/licenses", auth=("admin", PASSWORD), timeout=10
    ).json()
    code: str = next(s for s in licenses if s["product"] == "CS")["activation_code"]
    return code


def _log_in(page: Any, url: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#password", password)
    page.locator("form[action='/login'] button[type=submit]").click()


FORGED = """<!doctype html><html><body>
<h1>Win a prize</h1>
<form id="f" method="post" action="{target}">
  <input name="activation_code" value="{code}">
  <input name="product" value="CS">
  <input name="csrf_token" value="guessed">
</form>
<script>document.getElementById("f").submit();</script>
</body></html>"""


@pytest.mark.parametrize(
    ("attacker", "cookie_sent"),
    [
        # Another site: SameSite=Lax keeps the session cookie off the POST (the redirect to
        # the login page then lands, logged in, on the empty form).
        ("http://attacker.test", False),
        # Same site (ports do not make a site), another origin: the cookie goes along, and
        # the CSRF token is what refuses it.
        ("http://127.0.0.1:9", True),
    ],
)
def test_a_forged_cross_origin_form_is_refused(
    stack: Stack, browser: Any, attacker: str, cookie_sent: bool
) -> None:
    """The administrator is logged in to the Web manager; a page elsewhere auto-submits a
    form that would activate a new (valid) activation code. Nothing changes."""
    new_code = stack.reissue()
    before = _slot_code(stack)
    assert before != new_code
    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()
        _log_in(page, stack.server_url, PASSWORD)
        page.wait_for_url(f"{stack.server_url}/dashboard")
        html = FORGED.format(
            target=f"{stack.server_url}/admin/licenses/activation-code", code=new_code
        )
        context.route(
            f"{attacker}/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body=html),
        )
        page.goto(f"{attacker}/prize.html")
        page.wait_for_url(f"{stack.server_url}/**")
        page.wait_for_load_state()
        host = attacker.split("//")[1].replace(":", "-")
        page.screenshot(path=ARTIFACTS / f"forged-form-{host}.png", full_page=True)
        assert _slot_code(stack) == before
        body = page.content()
        assert "アクティベートしました" not in body
        assert (CsrfFailed().message("ja") in body) is cookie_sent
    finally:
        context.close()


def test_web_manager_lockout_in_the_browser(stack: Stack, browser: Any) -> None:
    """Five wrong passwords lock the admin; then even the right one shows the lock."""
    from playwright.sync_api import expect  # noqa: PLC0415

    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()
        for i in range(5):
            _log_in(page, stack.server_url, f"wrong password {i}")
            page.wait_for_url(f"{stack.server_url}/login**")
        expect(page.get_by_test_id("flash-danger")).to_contain_text("ロック")
        _log_in(page, stack.server_url, PASSWORD)
        page.wait_for_url(f"{stack.server_url}/login**")
        expect(page.get_by_test_id("flash-danger")).to_contain_text("ロック")
        page.screenshot(path=ARTIFACTS / "webmanager-locked.png", full_page=True)
        page.goto(f"{stack.server_url}/dashboard")
        assert page.url.startswith(f"{stack.server_url}/login")
    finally:
        context.close()
        # The stack is shared by this module: open the account again for any later test.
        with sqlite3.connect(stack.server_dir / "server.db") as db:
            db.execute("UPDATE users SET locked_until = NULL, failed_logins = 0")


def test_console_lockout_in_the_browser(stack: Stack, browser: Any) -> None:
    """Five wrong passwords lock a support-desk account; then even the right one is refused
    with the same message an unknown name gets."""
    from playwright.sync_api import expect  # noqa: PLC0415

    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()

        def attempt(name: str, password: str) -> str:
            page.goto(f"{stack.vendor_url}/console/login")
            page.fill("#username", name)
            page.fill("#password", password)
            page.get_by_role("button", name="ログイン").click()
            error = page.get_by_test_id("login-error")
            expect(error).to_be_visible()
            text: str = error.inner_text()
            return text

        wrong = [attempt(DESK[0], f"wrong {i}") for i in range(5)]
        locked = attempt(DESK[0], DESK[1])
        page.screenshot(path=ARTIFACTS / "console-locked.png", full_page=True)
        unknown = attempt("nobody-here", DESK[1])
        assert len({*wrong, locked, unknown}) == 1
        assert "/console/login" in page.url
    finally:
        context.close()
