"""Reproduction 4 in Chromium (issue 21): only the Damage Cleanup Services code is revoked
while C/S Sec. is active. Before, every Web manager page then claimed that C/S Sec.'s
distributions and client updates had stopped, the header said ライセンス失効 and the check's
flash said it could not check, while 今すぐアップデート and `client update` kept working.
After: the banner names only the template's distribution (ja and en), the badge names
Damage Cleanup Services, the flash says what the vendor signed, and the virus pattern
still goes 1 → 2 on the server and on the client. Screenshots go to test-artifacts/server/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.e2e_server import ARTIFACTS, PASSWORD, Stack, running_stack
from tests.helpers.updates import EXTRA_RULE, SEED

from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.services import revoke_code

CHROMIUM = Path("/usr/bin/chromium")
CSSEC = [sys.executable, "-m", "cssec"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]
CS_STOPS = {
    "ja": ("ウイルスパターンファイルの配信", "手動アップデート", "ActiveUpdate サーバから"),
    "en": ("virus pattern file to clients", "Manual update", "from ActiveUpdate"),
}


def cssec(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": "en_US.UTF-8", "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("truth-browser"), tls=False) as running:
        yield running


@pytest.fixture(scope="module")
def page(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(
            locale="ja-JP", base_url=stack.server_url, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def license_banner(page: Any) -> tuple[str, str]:
    """The license banner's kind and text (there is exactly one)."""
    banners = page.locator('[data-testid="banner"][data-banner^="license-"]')
    assert banners.count() == 1
    return banners.first.get_attribute("data-banner"), banners.first.inner_text()


def test_dcs_revocation_stops_only_the_template_in_chromium(
    stack: Stack, page: Any, tmp_path: Path
) -> None:
    client_dir = tmp_path / "client"
    installed = cssec("client", "install", "--server", stack.server_url, "--dir", str(client_dir))
    assert installed.returncode == 0, installed.stderr
    with stack.vendor.session() as session:
        revoke_code(session, stack.contract.codes["DCS"], actor="test", reason="誤発行")
    with stack.vendor.session() as session:
        data = (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
        publish_component(session, "virus_pattern", data, actor="test")

    page.goto("/admin/licenses")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    page.get_by_test_id("check-online-DCS").click()
    page.wait_for_url(re.compile(r"/admin/licenses$"))
    flash = page.get_by_test_id("flash-danger").inner_text()
    assert "ステータスを確認できませんでした" not in flash
    assert "失効処理されていると署名付きで回答しました" in flash
    assert "停止した機能: ウイルス感染復旧テンプレートの配信。" in flash
    shot(page, "truth-01-dcs-revoked-ja")
    assert page.locator('section[data-product="CS"] [data-field="status"]').inner_text() == (
        "アクティベート済み"
    )
    assert page.locator('section[data-product="DCS"] [data-field="status"]').inner_text() == "失効"

    for lang, template, badge in (
        ("ja", "ウイルス感染復旧テンプレートの配信", "ウイルス感染復旧サービス: 失効"),
        ("en", "damage cleanup template to clients", "Damage Cleanup Services revoked"),
    ):
        page.get_by_test_id(f"lang-{lang}").click()
        for path in ("/dashboard", "/updates/components"):
            page.goto(path)
            kind, text = license_banner(page)
            assert kind == "license-revoked"
            assert template in text
            for stop in CS_STOPS[lang]:
                assert stop not in text, (lang, path, stop)
            assert page.get_by_test_id("revoked-badge").count() == 0
            assert page.get_by_test_id("license-badge-DCS-revoked").inner_text() == badge
        shot(page, f"truth-02-components-{lang}")

    # 今すぐアップデート works: the server's virus pattern goes 1 → 2.
    page.get_by_test_id("lang-ja").click()
    page.goto("/updates/components")
    assert page.get_by_test_id("update-now").is_enabled()
    page.get_by_test_id("update-now").click()
    page.wait_for_url(re.compile(r"/updates/components"))
    shot(page, "truth-03-updated-ja")
    assert page.get_by_test_id("flash-danger").count() == 0
    # And a client updates from the server: C/S Sec.'s distribution never stopped.
    updated = cssec("client", "update", "--dir", str(client_dir))
    assert updated.returncode == 0, updated.stderr
    status = cssec("client", "status", "--dir", str(client_dir), "--json")
    assert json.loads(status.stdout)["components"]["virus_pattern"]["version"] == 2

    # The staged rollout timing on the same page (issue 24): shown with what it means, and
    # changed by its own form whatever the Damage Cleanup Services license says.
    page.goto("/updates/components")
    timing = page.get_by_test_id("rollout-timing")
    assert "早期は最初のリング" in timing.inner_text()
    assert page.get_by_test_id("timing-standard").is_checked()
    page.get_by_test_id("timing-early").check()
    page.get_by_test_id("timing-save").click()
    page.wait_for_url(re.compile(r"/updates/components$"))
    flash = page.get_by_test_id("flash-success").inner_text()
    assert "段階的配信のタイミングを早期にしました。" in flash
    assert page.get_by_test_id("timing-early").is_checked()
    shot(page, "truth-04-rollout-timing-ja")
