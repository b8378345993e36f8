"""The Web manager in a real browser (Debian's chromium through Playwright) against real
vendor and server processes: log in, read the license page in Japanese and English, enter
a valid, a mistyped and a lapsed code, and check the status online. Screenshots go to
test-artifacts/server/."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.e2e_server import ARTIFACTS, PASSWORD, REPO, Stack, free_port

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # The server's self-signed certificate, and only it: what an administrator
                # does by accepting the certificate after comparing its fingerprint.
                f"--ignore-certificate-errors-spki-list={stack.spki}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    context = browser.new_context(
        locale="ja-JP", base_url=stack.server_url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def field(page: Any, product: str, name: str) -> str:
    text: str = page.locator(
        f'section[data-product="{product}"] [data-field="{name}"]'
    ).inner_text()
    return text.strip()


def open_new_code_form(page: Any, product: str = "CS") -> None:
    page.goto("/admin/licenses")
    page.get_by_test_id(f"new-code-{product}").click()
    page.wait_for_url(re.compile(r"/admin/licenses/activation-code"))


def test_01_log_in(page: Any) -> None:
    page.goto("/admin/licenses")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.locator("h1").inner_text() == "Webマネージャにログイン"
    shot(page, "01-login-ja")
    page.fill("#password", "wrong password")
    page.get_by_role("button", name="ログイン").click()
    assert (
        "ユーザー名またはパスワードが正しくありません"
        in page.get_by_test_id("flash-danger").inner_text()
    )
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    page.goto("/dashboard")
    assert page.locator("h1").inner_text() == "ダッシュボード"
    shot(page, "02-dashboard-ja")


def test_01b_https_with_a_secure_cookie_and_hsts(page: Any, stack: Stack) -> None:
    assert stack.server_url.startswith("https://")
    response = page.goto("/dashboard")
    assert page.url.startswith(f"{stack.server_url}/dashboard")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["cssec_session"]["secure"] is True


def test_01c_another_certificate_is_still_refused(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    """Only the server's certificate is accepted: a machine in the middle with its own
    certificate for the same address is refused by the browser."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.tls_mitm", "--upstream", stack.server_url,
         "--port", str(port), "--record", str(tmp_path / "seen.txt")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    context = browser.new_context()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"listening")
        with pytest.raises(Exception, match="ERR_CERT"):
            context.new_page().goto(f"https://127.0.0.1:{port}/login")
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_02_license_page_in_japanese(page: Any, stack: Stack) -> None:
    page.locator("nav.sidenav").get_by_role("link", name="製品ライセンス").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    assert page.locator("h1").inner_text() == "製品ライセンス"
    assert page.locator('section[data-product="CS"] h2').inner_text() == "製品: C/S Sec."
    assert page.locator('section[data-product="DCS"] h2').inner_text() == (
        "製品: ウイルス感染復旧サービス"
    )
    assert field(page, "CS", "product_name") == "C/S Sec."
    assert field(page, "CS", "version_type") == "製品版"
    assert field(page, "CS", "activation_code") == stack.contract.codes["CS"]
    assert field(page, "CS", "status") == "アクティベート済み"
    assert field(page, "CS", "expires_on") >= stack.contract.end.isoformat()
    assert page.get_by_test_id("new-code-CS").inner_text() == "新規入力"
    assert page.get_by_test_id("check-online-CS").inner_text() == "ステータスをオンラインで確認"
    shot(page, "03-licenses-ja")


def test_02b_the_page_works_under_its_content_security_policy(page: Any) -> None:
    """Chromium enforces the policy: the stylesheet still applies and nothing is refused."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    response = page.goto("/admin/licenses")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    rules = page.evaluate("() => [...document.styleSheets].map(s => s.cssRules.length)")
    assert rules, "no stylesheet loaded"
    assert all(count > 0 for count in rules), rules
    page.locator("form").first.wait_for()
    assert not [m for m in refused if "Content Security Policy" in m], refused


def test_03_license_page_in_english(page: Any) -> None:
    page.get_by_test_id("lang-en").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    assert page.locator("h1").inner_text() == "Product License"
    assert page.locator('section[data-product="DCS"] h2').inner_text() == (
        "Product: Damage Cleanup Services"
    )
    assert field(page, "CS", "version_type") == "Full version"
    assert field(page, "CS", "status") == "Activated"
    assert page.get_by_test_id("check-online-CS").inner_text() == "Check status online"
    shot(page, "04-licenses-en")
    page.get_by_test_id("lang-ja").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    assert page.locator("h1").inner_text() == "製品ライセンス"


def test_04_accept_language_english(browser: Any, stack: Stack) -> None:
    context = browser.new_context(locale="en-US", base_url=stack.server_url)
    try:
        other = context.new_page()
        other.goto("/login")
        assert other.locator("h1").inner_text() == "Log in to the Web manager"
        shot(other, "05-login-en-accept-language")
    finally:
        context.close()


def test_05_enter_a_valid_new_code(page: Any, stack: Stack) -> None:
    stack.renew()
    new_code = stack.reissue()
    open_new_code_form(page)
    assert page.locator("h1").inner_text() == "アクティベーションコードの新規入力"
    page.fill("#activation_code", new_code.replace("-", "").lower())
    shot(page, "06-new-code-form")
    page.get_by_test_id("activate").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    assert "アクティベートしました" in page.get_by_test_id("flash-success").inner_text()
    assert field(page, "CS", "activation_code") == new_code
    assert field(page, "CS", "status") == "アクティベート済み"
    assert field(page, "CS", "expires_on") > stack.contract.end.isoformat()
    shot(page, "07-new-code-activated")
    page.reload()
    assert page.get_by_test_id("flash-success").count() == 0
    assert field(page, "CS", "activation_code") == new_code


def test_06_enter_a_mistyped_code(page: Any) -> None:
    before = field(page, "CS", "activation_code")
    typo = before[:20] + ("Z" if before[20] != "Z" else "Y") + before[21:]
    open_new_code_form(page)
    page.fill("#activation_code", typo)
    page.get_by_test_id("activate").click()
    page.wait_for_url(re.compile(r"/admin/licenses/activation-code\?product=CS"))
    message = page.get_by_test_id("flash-danger").inner_text()
    assert "無効なアクティベーションコードです" in message
    assert "法人お問合せ窓口" in message
    assert page.input_value("#activation_code") == typo
    shot(page, "08-mistyped-code")
    page.goto("/admin/licenses")
    assert field(page, "CS", "activation_code") == before


def test_07_enter_a_lapsed_code(page: Any, stack: Stack) -> None:
    before = field(page, "CS", "activation_code")
    open_new_code_form(page)
    page.fill("#activation_code", stack.lapsed_code())
    page.get_by_test_id("activate").click()
    page.wait_for_url(re.compile(r"/admin/licenses/activation-code\?product=CS"))
    message = page.get_by_test_id("flash-danger").inner_text()
    assert "有効期限が切れています" in message
    assert "2024-12-31" in message
    shot(page, "09-lapsed-code")
    page.goto("/admin/licenses")
    assert field(page, "CS", "activation_code") == before


def test_08_check_status_online(page: Any, stack: Stack) -> None:
    stack.renew()
    before = field(page, "CS", "expires_on")
    page.get_by_test_id("check-online-CS").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    # Either card's button checks every slot: one flash per product.
    flashes = page.get_by_test_id("flash-success")
    assert flashes.count() == 2
    message = flashes.filter(has_text="C/S Sec.:").inner_text()
    assert "ステータスをオンラインで確認しました" in message
    assert (
        "ステータスをオンラインで確認しました"
        in flashes.filter(has_text="ウイルス感染復旧サービス:").inner_text()
    )
    after = field(page, "CS", "expires_on")
    assert after > before
    assert f"変更前 {before}" in message
    shot(page, "10-checked-online")


def test_09_grace_banner(page: Any, stack: Stack) -> None:
    """Damage Cleanup Services from a contract that ended ten days ago: in grace, with a
    banner that says what stops after the grace period and what to do."""
    open_new_code_form(page, "DCS")
    page.fill("#activation_code", stack.code_in_grace("DCS"))
    page.get_by_test_id("activate").click()
    # Another contract's code, earlier and with fewer seats: 新規入力 asks first.
    changes = page.get_by_test_id("replacement-changes")
    worse = changes.locator("tr.worse").evaluate_all("rows => rows.map(r => r.dataset.field)")
    assert worse == ["expires_on", "seats", "contract"]
    assert "猶予中" in changes.inner_text()
    shot(page, "11a-confirm-replacement")
    page.get_by_test_id("confirm-activate").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    assert "変更点" in page.get_by_test_id("flash-warning").first.inner_text()
    assert field(page, "DCS", "status") == "更新猶予期間"
    banner = page.get_by_test_id("banner").inner_text()
    assert "ウイルス感染復旧サービスは更新猶予期間中です" in banner
    # Its own stopped function, not C/S Sec.'s.
    assert "ウイルス感染復旧テンプレートの配信" in banner
    assert "ウイルスパターンファイルの配信" not in banner
    assert "ステータスをオンラインで確認" in banner
    shot(page, "11-grace-banner")


def test_10_system_event_log(page: Any) -> None:
    page.locator("nav.sidenav").get_by_role("link", name="システムイベント").click()
    page.wait_for_url(re.compile(r"/logs/system-events"))
    table = page.get_by_test_id("events").inner_text()
    for label in ("サーバのインストール", "アクティベート", "コードを拒否", "オンライン確認"):
        assert label in table
    raw = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\b")
    assert raw.findall(table) == [], "event kinds are shown as words, not identifiers"
    rows = page.get_by_test_id("events").locator("tr.level-warning").all_inner_texts()
    assert any("条件の下がる" in row for row in rows), "the confirmed replacement is a 警告"
    shot(page, "12-system-events")


def test_11_log_out(page: Any) -> None:
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/admin/licenses")
    page.wait_for_url(re.compile(r"/login\?next="))
