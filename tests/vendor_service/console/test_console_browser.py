"""A real browser against a real `cssec vendor serve`: log in, find a contract, renew it,
see the audit row. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from tests.helpers.smtp_sink import free_port
from tests.helpers.vendor_pages import (
    ARTIFACTS,
    BROWSER_TEST,
    CHROMIUM,
    CHROMIUM_ARGS,
    Served,
    vendor_serving,
)

from cssec.vendor_service import services
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.settings import VendorSettings

ADMIN = ("support-admin", "browser test password")
CUSTOMER = "株式会社ブラウザテスト"

pytestmark = BROWSER_TEST


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`cssec vendor serve` in its own process on a loopback port, with an admin and a contract."""
    data = tmp_path / "vendor"
    vendor = open_vendor(VendorSettings(data_dir=data))
    try:
        with vendor.session() as session:
            services.add_user(session, name=ADMIN[0], password=ADMIN[1], role="admin", actor="test")
        with vendor.session() as session:
            contract = services.issue_contract(
                session, customer=CUSTOMER, seats=30, with_dcs=True, actor="test"
            )
    finally:
        vendor.close()
    with vendor_serving(data, free_port(), tmp_path / "serve.log") as url:
        yield Served(url=url, contract=contract)


def test_log_in_find_renew_and_see_the_audit_row(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    contract = served.contract
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page.goto(f"{served.url}/console/")
            expect(page).to_have_url(f"{served.url}/console/login?next=/console/")
            page.fill("#username", ADMIN[0])
            page.fill("#password", ADMIN[1])
            page.screenshot(path=ARTIFACTS / "console-1-login.png")
            page.get_by_role("button", name="ログイン").click()
            # The console requires a second factor: an admin without one enrols first.
            expect(page).to_have_url(f"{served.url}/console/account/two-factor")
            secret = page.get_by_test_id("totp-secret").inner_text()
            page.fill("#code", pyotp.TOTP(secret).now())
            page.get_by_test_id("enrol").click()
            expect(page.get_by_test_id("recovery-codes")).to_be_visible()
            page.get_by_role("link", name="続ける").click()
            expect(page.get_by_test_id("who")).to_contain_text(ADMIN[0])

            page.get_by_test_id("search-input").fill("ブラウザ")
            page.get_by_test_id("search-button").click()
            expect(page.get_by_test_id("results")).to_contain_text(CUSTOMER)
            page.screenshot(path=ARTIFACTS / "console-2-search.png", full_page=True)
            page.get_by_test_id("results").get_by_role("link", name=CUSTOMER).click()
            expect(page.get_by_test_id("contract-end")).to_have_text(contract.end.isoformat())
            expect(page.get_by_test_id("registration-key")).to_have_text(contract.registration_key)
            page.screenshot(path=ARTIFACTS / "console-3-contract.png", full_page=True)

            page.get_by_test_id("renew").click()
            page.select_option("#months", "12")
            page.get_by_test_id("review").click()
            new_end = services.term_end(contract.end + timedelta(days=1), 12)
            expect(page.get_by_test_id("new-end")).to_have_text(new_end.isoformat())
            page.screenshot(path=ARTIFACTS / "console-4-confirm.png", full_page=True)
            page.get_by_test_id("confirm-button").click()

            expect(page.get_by_test_id("flash")).to_contain_text("契約を更新しました")
            expect(page.get_by_test_id("contract-end")).to_have_text(new_end.isoformat())
            audit = page.get_by_test_id("contract-audit")
            expect(audit).to_contain_text(f"コンソール（{ADMIN[0]}）")  # who, as a person reads it
            expect(audit).to_contain_text("契約更新")
            page.screenshot(path=ARTIFACTS / "console-5-renewed.png", full_page=True)

            page.get_by_role("link", name="監査ログ", exact=True).first.click()
            rows = page.get_by_test_id("audit-rows")
            expect(rows.locator("tbody tr").first).to_contain_text("契約更新")
            expect(rows.locator("tbody tr").first).to_contain_text(new_end.isoformat())
            page.screenshot(path=ARTIFACTS / "console-6-audit.png", full_page=True)

            page.get_by_test_id("lang-en").click()
            expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
            page.get_by_role("link", name="Code inspection").click()
            page.get_by_test_id("inspect-input").fill(contract.codes["CS"].lower().replace("-", ""))
            page.get_by_role("button", name="Inspect").click()
            expect(page.get_by_test_id("verdict")).to_contain_text("Valid")
            page.screenshot(path=ARTIFACTS / "console-7-inspect-en.png", full_page=True)
        finally:
            browser.close()
