"""The demo as a newcomer walks it in Chromium: `make demo ARGS="--dir D --vendor-port P
--server-port P"`, the printed command run as printed, every Web manager and console page
in Japanese and English free of raw identifiers outside <code>, the clients table within a
1280 px window, both demo clients online, and one Ctrl-C that stops it all cleanly with the
data kept where it said."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.raw_identifiers import crawl
from tests.helpers.e2e_server import free_port

from cssec.server.logs.labels import CONNECTION_RESULT_LABELS, REQUEST_LABELS

CHROMIUM = Path("/usr/bin/chromium")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@dataclass
class RunningDemo:
    root: Path
    process: subprocess.Popen[bytes]
    output: Path
    info: dict[str, Any]

    def printed(self) -> str:
        return self.output.read_text("utf-8", errors="replace")


def _wait_for_text(demo: RunningDemo, needle: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while needle not in demo.printed():
        if demo.process.poll() is not None:
            pytest.fail(f"cssec demo exited early:\n{demo.printed()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"cssec demo did not print {needle!r} within {timeout:.0f} s")
        time.sleep(0.2)  # waiting for a real process, not for time to pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    base = tmp_path_factory.mktemp("demo-browser")
    root, output = base / "kept", base / "demo.out"
    vendor_port, server_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "CSSEC_VENDOR_DATABASE_URL"}
    # Japanese, the default, chosen explicitly so that a test run's own locale does not matter.
    args = f"--dir {root} --vendor-port {vendor_port} --server-port {server_port} --lang ja"
    with output.open("wb") as sink:
        # What the README says to type (-o: this venv is the one under test, never rebuilt).
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "demo", f"ARGS={args}"],
            cwd=Path(__file__).parents[2], stdout=sink, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    running = RunningDemo(root=root, process=process, output=output, info={})
    try:
        _wait_for_text(running, "Ctrl-Cですべてを止めます", timeout=240)
        running.info = json.loads((root / "demo.json").read_text("utf-8"))
        # The summary speaks Japanese; the URLs and fingerprint are printed whole.
        printed = running.printed()
        assert f"Webマネージャ: {running.info['server_url']}/" in printed, printed[-3000:]
        assert f"サーバ証明書の指紋: {running.info['server_fingerprint']}" in printed
        assert "Web manager" not in printed
        assert running.info["server_url"] == f"https://127.0.0.1:{server_port}"
        assert running.info["vendor_url"] == f"https://127.0.0.1:{vendor_port}"
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # only when the test itself failed early


@pytest.fixture(scope="module")
def browser(demo: RunningDemo) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


def _context(browser: Any, lang: str) -> Any:
    # The demo's certificates are self-signed; the pinning is tested elsewhere.
    return browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        extra_http_headers={"Accept-Language": lang},
        ignore_https_errors=True,
        viewport={"width": 1280, "height": 900},
    )


_TOTP_LOGINS: dict[str, int] = {}


def _log_in(page: Any, url: str, who: dict[str, str]) -> None:
    page.goto(url)
    page.fill("#username", who["user"])
    page.fill("#password", who["password"])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    if "totp_secret" in who and page.url.endswith("/login/second-factor"):
        import pyotp  # noqa: PLC0415

        # A code is used once, and the demo's enrolment used the current window: a login takes
        # the next window's (the one step of drift the console allows), and a later login a
        # later one, waiting for the real TOTP clock of the demo's process when it must.
        step = max(int(time.time() // 30) + 1, _TOTP_LOGINS.get(who["user"], -1) + 1)
        while step > int(time.time() // 30) + 1:
            time.sleep(0.5)  # the real clock of a real process's TOTP, not a test clock
        _TOTP_LOGINS[who["user"]] = step
        page.fill("#code", pyotp.TOTP(who["totp_secret"]).at(step * 30))
        page.locator('[data-testid="verify"]').click()
        page.wait_for_load_state()
    assert "/login" not in page.url, page.url


def test_01_printed_command_works_as_printed(demo: RunningDemo, tmp_path: Path) -> None:
    (tmp_path / "eicar.com").write_bytes(EICAR)
    line = next(
        line.strip() for line in demo.printed().splitlines() if " client scan PATH " in line
    )
    assert line.startswith(str(Path(sys.executable).parent / "cssec"))
    command = shlex.split(line.replace(" PATH ", f" {shlex.quote(str(tmp_path))} "))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stdout + result.stderr  # 1: a threat found
    assert "Eicar_test_file" in result.stdout
    assert f"データは{demo.root}に残ります" in demo.printed()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_02_web_manager_pages_show_no_raw_identifiers(
    demo: RunningDemo, browser: Any, lang: str
) -> None:
    context = _context(browser, lang)
    page = context.new_page()
    page.set_default_timeout(20_000)
    server = demo.info["server_url"]
    _log_in(page, f"{server}/login", demo.info["server_admin"])
    page.goto(f"{server}/clients")
    assert page.locator('[data-status="online"]').count() == 2, "both demo clients are online"
    fits = page.evaluate(
        """() => {
          const table = document.querySelector('[data-testid="clients"]');
          const root = document.documentElement;
          return {page: [root.scrollWidth, root.clientWidth],
                  table: [table.scrollWidth, table.parentElement.clientWidth]};
        }"""
    )
    assert fits["page"][0] <= fits["page"][1], f"the clients page overflows 1280 px: {fits}"
    assert fits["table"][0] <= fits["table"][1], f"the clients table overflows: {fits}"
    # One-word codes (manifest, files, ok) escape the patterns: the log's cells are labels.
    page.goto(f"{server}/logs/connection")
    rows = page.locator('[data-testid="connection-log"] tbody tr')
    requests = {rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())}
    results = {rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count())}
    assert requests <= {label[lang] for label in REQUEST_LABELS.values()}, requests
    assert results <= {label[lang] for label in CONNECTION_RESULT_LABELS.values()}, results
    assert len(requests) >= 3, requests  # enroll, manifest, files, update-result, heartbeat …
    found = crawl(page, server, ["/dashboard", "/no-such-page"], prefix="/")
    visited = found.pop("(visited)")
    assert {"/logs/connection", "/logs/virus", "/logs/updates/client", "/clients"} <= set(visited)
    assert found == {}, f"raw identifiers on screen ({lang}): {found}"
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_03_console_pages_show_no_raw_identifiers(
    demo: RunningDemo, browser: Any, lang: str
) -> None:
    context = _context(browser, lang)
    page = context.new_page()
    page.set_default_timeout(20_000)
    vendor = demo.info["vendor_url"]
    _log_in(page, f"{vendor}/console/login", demo.info["console_staff"])
    starts = ["/console/", f"/console/?q={demo.info['registration_key']}", "/console/nothing"]
    found = crawl(page, vendor, starts, prefix="/console")
    visited = found.pop("(visited)")
    assert any(re.fullmatch(r"/console/contracts/\d+", path) for path in visited)
    assert found == {}, f"raw identifiers on screen ({lang}): {found}"
    context.close()


def test_04_one_ctrl_c_stops_everything_and_keeps_the_data(demo: RunningDemo) -> None:
    os.killpg(demo.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    try:
        demo.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("the demo did not stop within 40 s of one Ctrl-C")
    printed = demo.printed()  # make's own exit status on an interrupt is its own affair
    assert f"停止しました。データとログは{demo.root}にあります" in printed, printed[-2000:]
    assert (demo.root / "demo.json").exists()
    for log in ("server.log", "vendor.log"):
        text = (demo.root / log).read_text("utf-8", errors="replace")
        assert "Traceback" not in text, f"{log}:\n{text[-3000:]}"
        assert "Application shutdown complete" in text
