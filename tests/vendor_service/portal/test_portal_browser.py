"""A real browser against a real `cssec vendor serve` mailing through a real SMTP sink:
ask for a sign-in link, open it from the mail, take the new activation code after a
renewal and download it, open the certificate and download its PDF. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from tests.helpers import vendor_pages
from tests.helpers.smtp_sink import Mailbox, free_port, smtp_sink
from tests.helpers.vendor_pages import (
    ARTIFACTS,
    BROWSER_TEST,
    CHROMIUM,
    CHROMIUM_ARGS,
    vendor_serving,
)

from cssec.vendor_service import services
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.settings import VendorSettings

CUSTOMER = "株式会社ブラウザポータル"
CONTACT = "joho@browser.example.co.jp"

pytestmark = BROWSER_TEST


@dataclass(frozen=True)
class Served(vendor_pages.Served):
    mailbox: Mailbox
    data: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`cssec vendor serve` in its own process with a renewed contract and SMTP to a sink."""
    data = tmp_path / "vendor"
    vendor = open_vendor(VendorSettings(data_dir=data))
    try:
        with vendor.session() as session:
            contract = services.issue_contract(
                session, customer=CUSTOMER, seats=30, with_dcs=True, contact_email=CONTACT,
                actor="test",
            )  # fmt: skip
        with vendor.session() as session:
            services.renew_contract(session, contract.contract_id, months=12, actor="console:bob")
    finally:
        vendor.close()
    smtp = {
        "CSSEC_VENDOR_SMTP_SECURITY": "none",
        "CSSEC_VENDOR_SMTP_SENDER": "licenses@vendor.example",
    }
    with smtp_sink() as mailbox:
        smtp.update(CSSEC_VENDOR_SMTP_HOST=mailbox.host, CSSEC_VENDOR_SMTP_PORT=str(mailbox.port))
        with vendor_serving(data, free_port(), tmp_path / "serve.log", **smtp) as url:
            yield Served(url=url, contract=contract, mailbox=mailbox, data=tmp_path)


def _link(mailbox: Mailbox, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in mailbox.received():
            found = re.search(r"http://127\.0\.0\.1:\d+/portal/signin/\S+", mail.get_content())
            if found:
                return found.group(0)
        time.sleep(0.1)
    raise AssertionError("no sign-in mail arrived")


def test_sign_in_by_the_mailed_link_take_the_code_and_the_certificate(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    contract = served.contract
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                locale="ja-JP", viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            page.goto(f"{served.url}/portal/")
            page.fill("#registration_key", contract.registration_key.lower().replace("-", ""))
            page.fill("#email", CONTACT)
            page.screenshot(path=ARTIFACTS / "portal-1-signin.png")
            page.get_by_test_id("send-link").click()
            expect(page.get_by_test_id("link-sent")).to_contain_text("メールをご確認ください")

            page.goto(_link(served.mailbox))
            page.get_by_test_id("use-link").click()
            expect(page.get_by_test_id("who")).to_have_text(CONTACT)
            expect(page.get_by_test_id("registration-key")).to_have_text(contract.registration_key)
            expect(page.get_by_test_id("renewal")).to_be_visible()
            expect(page.get_by_test_id("contract-audit")).to_contain_text("法人お問合せ窓口")
            page.screenshot(path=ARTIFACTS / "portal-2-contract.png", full_page=True)

            page.get_by_test_id("offline-code-CS").click()
            code = page.get_by_test_id("flash-code").inner_text().strip()
            assert re.fullmatch(r"CS-[0-9A-Z-]+", code)
            assert code != contract.codes["CS"]
            page.screenshot(path=ARTIFACTS / "portal-3-new-code.png", full_page=True)
            with page.expect_download() as downloading:
                page.get_by_test_id("download-CS").click()
            saved = served.data / "code.txt"
            downloading.value.save_as(saved)
            assert code in saved.read_text(encoding="utf-8")

            page.get_by_test_id("certificate").click()
            sheet = page.get_by_test_id("certificate-sheet")
            expect(sheet).to_contain_text(CUSTOMER)
            expect(sheet).to_contain_text(code)
            expect(page.get_by_test_id("qr").first.locator("svg")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "portal-4-certificate.png", full_page=True)
            with page.expect_download() as downloading:
                page.get_by_test_id("certificate-pdf").click()
            pdf = served.data / "certificate.pdf"
            downloading.value.save_as(pdf)
            text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
            assert "ライセンス証書" in text
            assert code in text

            page.get_by_test_id("lang-en").click()
            expect(page.get_by_role("heading", name="License certificate")).to_be_visible()
            page.get_by_test_id("logout").click()
            expect(
                page.get_by_role("heading", name="Sign in to the customer portal")
            ).to_be_visible()
            page.goto(f"{served.url}/portal/contracts/{contract.contract_id}")
            expect(page.get_by_test_id("send-link")).to_be_visible()
        finally:
            browser.close()
