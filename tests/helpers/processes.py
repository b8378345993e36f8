"""Real `cssec` processes for the operations tests: start one in its own process group,
wait until it answers, and check that nothing of it is left (no process, no listening port)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

CSSEC = [sys.executable, "-m", "cssec"]


def cssec_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSSEC_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cssec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, check=False,
        env=env or cssec_env(), timeout=180,
    )  # fmt: skip


def start_cssec(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`cssec ARGS` in a new session (its own process group), output to `log`."""
    with log.open("wb") as handle:
        return subprocess.Popen(
            [*CSSEC, *args], stdout=handle, stderr=subprocess.STDOUT,
            env=env or cssec_env(), start_new_session=True,
        )  # fmt: skip


def wait_answering(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"exited early ({process.returncode}):\n{log.read_text(errors='replace')}"
            )
        try:
            if httpx.get(url, timeout=2, verify=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')}")


def family(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The process and every descendant alive now."""
    try:
        parent = psutil.Process(process.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def listening(port: int) -> bool:
    return any(
        c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        for c in psutil.net_connections(kind="tcp")
    )


def gone(processes: list[psutil.Process], timeout: float = 30) -> list[psutil.Process]:
    """Those of `processes` still alive (not zombies) after `timeout`."""
    _dead, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@contextmanager
def reaped(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Whatever the test does, its process group is killed at the end."""
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
