"""What the console's and the portal's tests both need: the vendor behind a test app, the
CSRF token of a rendered form, Chromium's settings, and `cssec vendor serve` in its own
process for the browser tests."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from tests.helpers.processes import cssec_env, reaped, start_cssec, wait_answering

from cssec.vendor_service import services
from cssec.vendor_service.runtime import Vendor

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
"""The marks of a test module that drives Chromium against a served vendor."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Served:
    """A vendor in its own process (`vendor_serving`) and the contract made before."""

    url: str
    contract: services.IssuedContract


def vendor_of(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextmanager
def vendor_serving(data: Path, port: int, log_path: Path, **env: str) -> Iterator[str]:
    """`cssec vendor serve --data DATA` on a loopback port with only `env` of the CSSEC_
    settings, once its health check answers; yields its URL, stops it after (and kills
    what is left of it)."""
    args = ["vendor", "serve", "--data", str(data), "--port", str(port)]
    process = start_cssec(args, log_path, env=cssec_env(**env))
    url = f"http://127.0.0.1:{port}"
    with reaped(process):
        wait_answering(f"{url}/api/v1/health", process, log_path, timeout=60)
        try:
            yield url
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
