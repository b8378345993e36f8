"""The three web apps in Chromium as people use them: the vendor console at laptop widths
(1024 and 1280 px: navigation on one line per label and laid out across, the code table's
actions visible, readable contrast on the header's links), and an automated accessibility
check, axe-core injected into every page reachable from each app's start page (Web manager,
vendor console, customer portal), with no serious or critical violation.

One vendor process and one server process (real `serve`, plain HTTP on loopback) and one
Chromium are shared by every test here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyotp
import pytest
from tests.helpers.e2e_server import PASSWORD, Stack, running_stack
from tests.helpers.vendor_pages import CHROMIUM, CHROMIUM_ARGS

from cssec.vendor_service import services
from cssec.vendor_service.services.portal import request_sign_in

AXE = Path(__file__).parent / "axe" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y"
STAFF = ("layout-admin", "layout test password")
CONTACT = "it-admin@example.co.jp"
WIDTHS = (1024, 1280)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@dataclass
class Apps:
    stack: Stack
    browser: Any
    console: Any
    """A browser context signed in to the console (second factor enrolled)."""
    portal: Any
    """A browser context signed in to the customer portal by a mailed link."""
    webmanager: Any
    """A browser context signed in to the Web manager."""
    contract_id: int


def _context(browser: Any, width: int = 1280) -> Any:
    # The pages' Content-Security-Policy allows no script; axe is injected by the test.
    return browser.new_context(
        locale="ja-JP", viewport={"width": width, "height": 900}, bypass_csp=True
    )


def _console_login(browser: Any, url: str) -> Any:
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{url}/console/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{url}/console/account/two-factor")
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_test_id("enrol").click()
    page.get_by_test_id("recovery-codes").wait_for()
    page.close()
    return context


def _portal_login(browser: Any, stack: Stack) -> Any:
    with stack.vendor.session() as session:
        link = request_sign_in(session, stack.contract.registration_key, CONTACT, source="test")
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{stack.vendor_url}/portal/signin/{link.token}")
    page.get_by_test_id("use-link").click()
    page.wait_for_url(f"{stack.vendor_url}/portal/contracts/*")
    page.close()
    return context


def _webmanager_login(browser: Any, url: str) -> Any:
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type=submit]').click()
    page.wait_for_url(f"{url}/dashboard")
    page.close()
    return context


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with running_stack(tmp_path_factory.mktemp("layout-a11y"), tls=False) as stack:
        with stack.vendor.session() as session:
            services.add_user(session, name=STAFF[0], password=STAFF[1], role="admin", actor="test")
        with stack.vendor.session() as session:
            services.change_contact(
                session,
                stack.contract.contract_id,
                contact_email=CONTACT,
                language="ja",
                actor="test",
            )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Apps(
                    stack=stack,
                    browser=browser,
                    console=_console_login(browser, stack.vendor_url),
                    portal=_portal_login(browser, stack),
                    webmanager=_webmanager_login(browser, stack.server_url),
                    contract_id=stack.contract.contract_id,
                )
            finally:
                browser.close()


# --- Crawling -------------------------------------------------------------------------------

_SKIP = ("/logout", "/signout", "/static/", ".csv", ".pdf", ".txt", ".json", "/api/")


def _links(page: Any, base: str, prefix: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        absolute = urljoin(page.url, href).split("#", 1)[0]
        parts = urlsplit(absolute)
        if f"{parts.scheme}://{parts.netloc}" != base or not parts.path.startswith(prefix):
            continue
        if any(s in parts.path for s in _SKIP):
            continue
        found.append(absolute)
    return found


def crawl(
    context: Any,
    base: str,
    start: list[str],
    prefix: str,
    visit: Callable[[Any], None],
    limit: int = 60,
) -> list[str]:
    """Every page reachable by links from `start` under `prefix`, one URL per path (the
    first query seen), at most `limit`; `visit` runs on each HTML page once it loaded."""
    page = context.new_page()
    seen_paths: set[str] = set()
    queue = [base + s for s in start]
    pages: list[str] = []
    try:
        while queue and len(pages) < limit:
            url = queue.pop(0)
            path = urlsplit(url).path
            if path in seen_paths:
                continue
            seen_paths.add(path)
            response = page.goto(url)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            pages.append(url)
            queue += _links(page, base, prefix)
            visit(page)
    finally:
        page.close()
    return pages


# --- axe ------------------------------------------------------------------------------------


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the loaded page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: '
                                + (n.failureSummary || '').split('\\n').slice(0, 3).join(' | '))}));
        }"""
    )
    return list(result)


def _report(problems: dict[str, Any], name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(problems, ensure_ascii=False, indent=1)
    (ARTIFACTS / f"{name}.json").write_text(text)
    return text


# --- Layout at laptop widths -----------------------------------------------------------------

_NAV_LAYOUT = """() => {
    // Lines a label takes: its text's boxes spread over more than one line's height.
    const lines = el => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const rects = [...range.getClientRects()].filter(r => r.width > 0);
        if (!rects.length) return 0;
        const top = Math.min(...rects.map(r => r.top));
        const bottom = Math.max(...rects.map(r => r.bottom));
        const size = parseFloat(getComputedStyle(el).fontSize);
        return bottom - top > 2.2 * size ? 2 : 1;
    };
    const links = [...document.querySelectorAll('header a, header button')]
        .filter(el => el.offsetParent !== null);
    const nav = [...document.querySelectorAll('.mainnav a')];
    const rows = new Set(nav.map(a => Math.round(a.getBoundingClientRect().top)));
    const header = document.querySelector('header').getBoundingClientRect();
    const main = document.querySelector('main').getBoundingClientRect();
    return {
        wrapped: links.filter(el => lines(el) > 1).map(el => el.textContent.trim()),
        outside: links.filter(el => el.getBoundingClientRect().right > innerWidth + 0.5)
            .map(el => el.textContent.trim()),
        navCount: nav.length,
        navRows: rows.size,
        headerBottom: header.bottom,
        mainTop: main.top,
        scrollWidth: document.documentElement.scrollWidth,
        // What sticks out, to say why the page scrolls sideways.
        wide: [...document.querySelectorAll('main *')]
            .filter(el => el.getBoundingClientRect().right > innerWidth + 0.5)
            .filter(el => ![...el.children]
                .some(c => c.getBoundingClientRect().right > innerWidth + 0.5))
            .slice(0, 6)
            .map(el => el.tagName + '.' + el.className + ' ' + el.textContent.trim().slice(0, 40)),
        innerWidth: innerWidth,
        // Field names of the audit's changes broken over lines (レジス/トレー/ション/キー).
        brokenFields: [...document.querySelectorAll('dl.changes dt')]
            .filter(el => lines(el) > 1).map(el => el.textContent.trim()),
        // What runs past the right edge of its card (the page need not scroll for that).
        pastCard: [...document.querySelectorAll('main .card')].flatMap(card => {
            const edge = card.getBoundingClientRect().right + 0.5;
            return [...card.querySelectorAll('*')]
                .filter(el => el.getBoundingClientRect().right > edge)
                .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > edge))
                .slice(0, 3)
                .map(el => `${el.tagName}.${el.className} ${el.textContent.trim().slice(0, 40)}`);
        }),
    };
}"""

_ACTIONS_SHOWN = """(table) => [
        ...table.querySelectorAll('td.rowactions a, td.rowactions button')
    ].map(el => {
    el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {
        text: el.textContent.trim(),
        shown: r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth + 0.5
            && (hit === el || el.contains(hit)),
        lines: new Set([...el.getClientRects()].map(c => Math.round(c.top))).size,
    };
})"""


def _layout(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(_NAV_LAYOUT)
    return result


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("width", WIDTHS)
def test_console_at_laptop_widths(apps: Apps, width: int, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = apps.stack.vendor_url
    page = apps.console.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 800})
        page.context.add_cookies([{"name": "cssec_lang", "value": lang, "url": url}])
        for path in ("/console/", f"/console/contracts/{apps.contract_id}", "/console/inspect"):
            page.goto(url + path)
            layout = _layout(page)
            where = f"{path} at {width} px ({lang}): {layout}"
            assert layout["navCount"] >= 8, where  # an administrator's whole menu
            assert layout["wrapped"] == [], f"labels broken over lines: {where}"
            assert layout["outside"] == [], f"header links off the screen: {where}"
            assert layout["navRows"] == 1, f"the menu wraps onto another row: {where}"
            assert layout["mainTop"] >= layout["headerBottom"] - 1, f"header over the page: {where}"
            assert layout["scrollWidth"] <= width, f"the page scrolls sideways: {where}"
            assert layout["pastCard"] == [], f"a card's content runs past it: {where}"
            assert layout["brokenFields"] == [], f"field names broken over lines: {where}"
        page.goto(f"{url}/console/contracts/{apps.contract_id}")
        page.screenshot(path=ARTIFACTS / f"console-contract-{width}-{lang}.png", full_page=True)
        actions = page.get_by_test_id("codes").evaluate(_ACTIONS_SHOWN)
        labels = {"ja": "失効", "en": "Revoke"}[lang]
        assert any(a["text"] == labels for a in actions), actions
        for action in actions:
            assert action["shown"], f"{action['text']} is hidden at {width} px: {actions}"
            assert action["lines"] == 1, f"{action['text']} is broken over lines: {actions}"
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_portal_at_laptop_widths(apps: Apps, width: int) -> None:
    url = apps.stack.vendor_url
    page = apps.portal.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/portal/", f"/portal/contracts/{apps.contract_id}"):
            for lang in ("ja", "en"):
                page.context.add_cookies([{"name": "cssec_lang", "value": lang, "url": url}])
                page.goto(url + path)
                layout = _layout(page)
                where = f"{path} at {width} px ({lang}): {layout}"
                assert layout["navCount"] >= 1, where
                assert layout["wrapped"] == [], f"labels broken over lines: {where}"
                assert layout["outside"] == [], f"header links off the screen: {where}"
                assert layout["navRows"] <= 2, f"the menu runs down the page: {where}"
                assert layout["scrollWidth"] <= width, f"the page scrolls sideways: {where}"
                assert layout["pastCard"] == [], f"a card's content runs past it: {where}"
        page.screenshot(path=ARTIFACTS / f"portal-contract-{width}.png", full_page=True)
    finally:
        page.close()


def test_the_second_factor_link_is_readable(apps: Apps) -> None:
    page = apps.console.new_page()
    try:
        page.goto(f"{apps.stack.vendor_url}/console/")
        ratio = page.get_by_test_id("two-factor-link").evaluate(_CONTRAST)
        assert ratio >= 4.5, f"2段階認証 link contrast {ratio:.2f}:1"
    finally:
        page.close()


_CONTRAST = """(el) => {
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => {
        const f = v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let bg = el, color;
    while (bg) {
        color = getComputedStyle(bg).backgroundColor;
        if (color && !color.startsWith('rgba(0, 0, 0, 0)') && color !== 'transparent') break;
        bg = bg.parentElement;
    }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(color || 'rgb(255,255,255)'));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


# --- Accessibility --------------------------------------------------------------------------


def _signed_out_pages(apps: Apps) -> list[tuple[str, str]]:
    vendor, server = apps.stack.vendor_url, apps.stack.server_url
    return [
        ("console", f"{vendor}/console/login"),
        ("portal", f"{vendor}/portal/"),
        ("webmanager", f"{server}/login"),
    ]


def test_no_serious_accessibility_violation_signed_out(apps: Apps) -> None:
    context = _context(apps.browser)
    problems: dict[str, Any] = {}
    try:
        page = context.new_page()
        for lang in ("ja", "en"):
            for _app, url in _signed_out_pages(apps):
                context.add_cookies([{"name": "cssec_lang", "value": lang, "url": url}])
                page.goto(url)
                if found := axe_violations(page):
                    problems[f"{url} ({lang})"] = found
    finally:
        context.close()
    assert problems == {}, _report(problems, "signed-out")


@pytest.mark.parametrize(
    ("app", "start", "prefix", "least"),
    [
        ("console", ["/console/", "/console/inspect?code=CS-0000-00000-00000-00000-00000-00000"],
         "/console", 15),
        ("portal", ["/portal/"], "/portal", 3),
        ("webmanager", ["/dashboard"], "/", 15),
    ],
)  # fmt: skip
def test_no_serious_accessibility_violation_on_any_page(
    apps: Apps, app: str, start: list[str], prefix: str, least: int
) -> None:
    base = apps.stack.server_url if app == "webmanager" else apps.stack.vendor_url
    problems: dict[str, Any] = {}

    def check(page: Any) -> None:
        if found := axe_violations(page):
            problems[page.url] = found

    urls = crawl(getattr(apps, app), base, start, prefix, check)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{app}-pages.txt").write_text("\n".join(urls) + "\n")
    assert len(urls) >= least, urls  # the crawl really walked the app
    if app == "webmanager":
        # A refused form, as the person sees it: the reason beside the field.
        page = apps.webmanager.new_page()
        try:
            page.goto(f"{base}/admin/mail")
            page.fill("#smtp_host", "smtp.example.jp")
            page.fill("#sender", "not an address")
            page.get_by_test_id("mail-save").click()
            page.get_by_test_id("error-sender").wait_for()
            check(page)
        finally:
            page.close()
    assert problems == {}, _report(problems, app)
