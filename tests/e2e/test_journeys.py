"""The journeys of docs/journeys.md (and the README's runnable blocks) run as printed.

Every ``sh journey=…`` block runs in bash, in order, in one temporary directory, with the
virtual environment's `cssec` first on PATH and nothing of the caller's CSSEC_* settings,
as a person who typed `source .venv/bin/activate` and pasted the block. A command that fails
as printed fails the journey (``set -euo pipefail``). The ``page journey=…`` blocks are done
in Chromium. Processes a block leaves running (``… &``) stay up for the later blocks and
journeys (one vendor for all of them, as the docs say) and are stopped at the end.

The ports the docs use (8100, 8443, …) are set by the docs' first block only when the
variables are unset; here they are free ports, so that a running demo does not collide.
Each journey's wall time is printed (``journey NAME: S s``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.e2e_server import free_port
from tests.helpers.journeys import (
    Block,
    Journey,
    append_state,
    base_env,
    collect,
    initial_state,
    read_state,
    run_page_block,
    shell_script,
)

CHROMIUM = Path("/usr/bin/chromium")
JOURNEYS = collect()
BLOCK_TIMEOUT = 150
FIXED_MODE = ("file mode of ", "のファイルモードが")  # the warning of a fixed mode, en and ja
PORTS = ("VENDOR_PORT", "MAIL_PORT", "MAILBOX_PORT", "ONLINE_PORT", "OFFLINE_PORT", "GRACE_PORT")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class Session:
    """One terminal and one browser, kept across the journeys."""

    cwd: Path
    state: Path
    group: subprocess.Popen[bytes]
    browser: Any = None
    playwright: Any = None
    failed: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)

    def run_shell(self, block: Block, index: int) -> None:
        log = self.cwd.parent / f"block-{index:02d}-{block.journey}.log"
        script = shell_script(block, self.state)
        with log.open("wb") as out:
            # Every block in the one process group made below: the processes a block leaves
            # running are stopped with it at the end, whatever happens.
            process = subprocess.Popen(
                ["bash", "-c", script], cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, process_group=self.group.pid,
                env={"PATH": os.environ["PATH"], "HOME": str(self.cwd)},
            )  # fmt: skip
            try:
                status = process.wait(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                status = -1
        output = log.read_text("utf-8", errors="replace")
        if status != 0:
            pytest.fail(
                f"{block.where} failed as printed (exit {status}):\n{block.text}\n"
                f"--- output ---\n{output[-4000:]}",
                pytrace=False,
            )
        fixed = [line for line in output.splitlines() if any(w in line for w in FIXED_MODE)]
        if fixed:  # cssec made a file its own check then had to fix (cssec.web.filemodes)
            pytest.fail(
                f"{block.where} left a file mode to fix:\n" + "\n".join(fixed), pytrace=False
            )


@pytest.fixture(scope="module")
def session(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Session]:
    base = tmp_path_factory.mktemp("journeys")
    cwd = base / "work"
    cwd.mkdir()
    state = base / "state.sh"
    env = base_env(Path(sys.executable).parent)
    env["HOME"] = str(cwd)  # the per-user default directories are the test's own
    env.pop("XDG_DATA_HOME", None)
    for name in PORTS:
        env[name] = str(free_port())
    initial_state(state, env)
    # The leader of the process group of every block (`sleep` never exits by itself).
    group = subprocess.Popen(["sleep", "3600"], process_group=0)
    running = Session(cwd=cwd, state=state, group=group)
    try:
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _group_alive(group.pid):
            time.sleep(0.2)  # waiting for real processes to finish, not for time to pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group.pid, signal.SIGKILL)
        group.wait(timeout=10)
        if running.browser is not None:
            running.browser.close()
            running.playwright.stop()
        _report(request, running.timings)


def _report(request: pytest.FixtureRequest, timings: dict[str, float]) -> None:
    """Each journey's wall time on the terminal, whether the tests passed or not (past
    pytest's output capture, as its own reporting does)."""
    lines = [f"journey {name}: {seconds:.1f} s" for name, seconds in timings.items()]
    lines += [f"journeys in all: {sum(timings.values()):.1f} s"]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _browser(session: Session) -> Any:
    if session.browser is None:
        if not CHROMIUM.exists():
            pytest.skip("Debian chromium is not installed (the journey opens pages)")
        from playwright.sync_api import sync_playwright  # noqa: PLC0415

        session.playwright = sync_playwright().start()
        session.browser = session.playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
    return session.browser


def test_the_docs_hold_the_journeys_the_issue_names() -> None:
    names = [journey.name for journey in JOURNEYS]
    for wanted in ("vendor", "support-desk", "online-site", "offline-site", "customer", "rollout"):
        assert wanted in names, names
    assert names.index("vendor") < names.index("online-site") < names.index("offline-site")
    assert names.index("online-site") < names.index("rollout")
    pages = {j.name for j in JOURNEYS if any(b.kind == "page" for b in j.blocks)}
    assert {"online-site", "offline-site", "customer"} <= pages, pages


@pytest.mark.parametrize("journey", JOURNEYS, ids=[j.name for j in JOURNEYS])
def test_journey_runs_as_printed(session: Session, journey: Journey) -> None:
    if "vendor" in session.failed and journey.name != "vendor":
        pytest.skip("the vendor journey, which every other one uses, failed")
    started = time.monotonic()
    context = None
    try:
        for index, block in enumerate(journey.blocks):
            if block.kind == "sh":
                session.run_shell(block, len(session.timings) * 100 + index)
                continue
            if context is None:  # one browser window per journey, kept between its blocks
                context = _browser(session).new_context(
                    locale="ja-JP", ignore_https_errors=True, accept_downloads=True,
                    viewport={"width": 1280, "height": 900},
                )  # fmt: skip
                page = context.new_page()
                page.set_default_timeout(20_000)
            read = run_page_block(page, block, read_state(session.state), session.cwd)
            append_state(session.state, read)
    except BaseException:
        session.failed.add(journey.name)
        raise
    finally:
        if context is not None:
            context.close()
        session.timings[journey.name] = time.monotonic() - started
        print(f"journey {journey.name}: {session.timings[journey.name]:.1f} s")
