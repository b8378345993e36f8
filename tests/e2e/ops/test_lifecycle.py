"""SIGTERM and SIGINT alike stop a real `serve` or `demo` and everything it started: no
process and no listening port remain, and the vendor's last status-history batch is
written."""

from __future__ import annotations

import json
import secrets
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.helpers.e2e_server import free_port
from tests.helpers.processes import (
    cssec_env,
    family,
    gone,
    listening,
    reaped,
    start_cssec,
    wait_answering,
)

from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings

STOP_WITHIN = 40  # serving.STOP_TIMEOUT plus the lifespan's shutdown, with room


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_vendor_serve_with_workers_stops_whole(tmp_path: Path, signum: signal.Signals) -> None:
    data = tmp_path / "vendor"
    vendor = open_vendor(VendorSettings(data_dir=data))
    try:
        with vendor.session() as session:
            code = issue_contract(session, customer="停止", seats=1, actor="t").codes["CS"]
    finally:
        vendor.close()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()
    env = cssec_env(CSSEC_VENDOR_STATUS_RATE_LIMIT="10000/minute", TMPDIR=str(scratch))
    log = tmp_path / "serve.log"
    args = ["vendor", "serve", "--data", str(data), "--port", str(port), "--workers", "2"]
    with reaped(start_cssec(args, log, env)) as process:
        wait_answering(f"http://127.0.0.1:{port}/healthz", process, log)
        checks = 25
        for _ in range(checks):
            with httpx.Client(timeout=10) as http:
                answer = http.post(
                    f"http://127.0.0.1:{port}/api/v1/status",
                    json={"activation_code": code, "server_id": "s",
                          "nonce": secrets.token_urlsafe(16)},
                )  # fmt: skip
                assert answer.status_code == 200
        started = family(process)
        assert len(started) >= 3  # the supervisor and two workers
        assert any(scratch.iterdir())  # the workers' metrics directory
        process.send_signal(signum)
        process.wait(timeout=STOP_WITHIN)
        assert gone(started, timeout=10) == []
        assert not listening(port)
        assert list(scratch.iterdir()) == []  # removed
    with sqlite3.connect(data / "vendor.db") as db:
        (written,) = db.execute("SELECT COUNT(*) FROM status_checks").fetchone()
    assert written == checks, log.read_text(errors="replace")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_demo_stops_its_children(tmp_path: Path, signum: signal.Signals) -> None:
    root = tmp_path / "demo"
    log = tmp_path / "demo.log"
    with reaped(start_cssec(["demo", "--dir", str(root)], log)) as process:
        deadline = time.monotonic() + 240
        while not (root / "demo.json").exists():
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "demo did not come up"
            time.sleep(0.3)
        summary = json.loads((root / "demo.json").read_text(encoding="utf-8"))
        ports = [urlsplit(summary[k]).port for k in ("vendor_url", "server_url")]
        started = family(process)
        assert len(started) >= 3  # demo, vendor, server
        assert all(port is not None and listening(port) for port in ports)
        process.send_signal(signum)
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"demo did not stop:\n{log.read_text(errors='replace')}")
        assert gone(started, timeout=10) == []
        assert not any(port is not None and listening(port) for port in ports)
