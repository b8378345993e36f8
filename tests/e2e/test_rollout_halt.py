"""Issue 24, done when: a version reported unhealthy by its first ring's clients is halted
and pulled, and no server outside that ring installs it. Real HTTP on loopback ports (the
vendor and the server apps behind uvicorn), a real client as its own processes
(`cssec client install / scan / status --online / update`), real TUF and signatures.

The new virus pattern is a false positive: it flags every file holding a marker. The
client scans ten such files, its heartbeat reports ten detections against none for the
previous version, its server sends that with its next update, and the vendor halts the
rollout by itself. A second server, in the same early ring, never takes the version; the
pull brings the first server and its client back to the previous content as version 3."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from tests.helpers.e2e_server import wait_up
from tests.helpers.tuf import install_tuf_root

from cssec.client.state import ClientState
from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server.app import create_app as create_server_app
from cssec.server.licensing.install import InstallRequest, install_server
from cssec.server.licensing.trust import VendorTrust
from cssec.server.settings import ServerSettings
from cssec.server.updates.rollout_timing import set_rollout_timing
from cssec.server.updates.service import read_installed
from cssec.vendor_service.activeupdate.rollout_service import pull_rollout, show_rollouts
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TZ = "Asia/Tokyo"
PASSWORD = "e2e rollout password, long enough"
CSSEC = [sys.executable, "-m", "cssec"]
SEED = (
    Path(__file__).resolve().parents[2] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)
MARKER = "cssec-rollout-e2e-false-positive"
FALSE_POSITIVE = (
    f'\nrule Cssec_Rollout_False_Positive {{ strings: $m = "{MARKER}" condition: $m }}\n'
).encode()


def cssec(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": "en_US.UTF-8", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@contextmanager
def served(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_up(f"{url}/api/v1/health", None, None)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def install(
    root: Path, name: str, vendor_url: str, code: str, vendor: Any, clock: FakeClock
) -> Any:
    request = InstallRequest(
        data_dir=root / name, vendor_url=vendor_url, admin_password=PASSWORD,
        activation_code=code, trust=VendorTrust(keys=tuple(vendor.keyring.verifying_keys[:1])),
    )  # fmt: skip
    asyncio.run(install_server(request, clock=clock, tz=ZoneInfo(TZ)))
    set_rollout_timing(root / name, "early")  # bucket / 10: inside the 10 % ring
    settings = ServerSettings(data_dir=root / name, timezone=TZ, online_checks=False)
    return create_server_app(settings, clock=clock, start_scheduler=False)


def update(app: Any) -> str:
    outcome = asyncio.run(app.state.component_poller.update_now(actor="e2e"))
    return str(outcome.result)


def pattern_version(app: Any) -> int:
    with app.state.server.sessionmaker() as session:
        current = read_installed(session).current
    assert current is not None
    return current.components[Component.VIRUS_PATTERN].version


def test_unhealthy_first_ring_is_halted_pulled_and_reaches_no_other_server(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    settings = VendorSettings(
        data_dir=tmp_path / "vendor", rollout_min_clients=1,
        rollout_health_min_interval_seconds=1,
    )  # fmt: skip
    vendor_app = create_vendor_app(settings, clock=clock)
    vendor = vendor_app.state.vendor
    good = (SEED / "virus_pattern.yar").read_bytes()
    try:
        install_tuf_root(vendor, tmp_path / "root-keys")
        with vendor.session() as session:
            code = issue_contract(session, customer="e2e", seats=10, actor="e2e").codes["CS"]
        with served(vendor_app) as vendor_url:
            first = install(tmp_path, "server1", vendor_url, code, vendor, clock)
            with vendor.session() as session:
                publish_component(
                    session, "virus_pattern", good + FALSE_POSITIVE, actor="e2e",
                    rollout=RolloutPlan(rings=(10, 100), step_hours=24),
                )  # fmt: skip
            assert update(first) == "success"
            assert pattern_version(first) == 2
            with served(first) as server_url:
                client = tmp_path / "client"
                installed = cssec("client", "install", "--server", server_url, "--dir", str(client))
                assert installed.returncode == 0, installed.stderr
                files = tmp_path / "files"
                files.mkdir()
                for n in range(10):
                    (files / f"doc{n}.txt").write_text(f"{MARKER} {n}\n")
                scanned = cssec("client", "scan", str(files), "--dir", str(client))
                assert "10" in scanned.stdout + scanned.stderr, scanned.stdout
                status = cssec("client", "status", "--online", "--dir", str(client))
                assert status.returncode == 0, status.stderr
                update(first)  # its poll carries the clients' health to the vendor

                with vendor.session() as session:
                    view = show_rollouts(session)[0]
                assert view.halted, view.to_dict()
                assert "detections" in (view.halt_reason or "")

                second = install(tmp_path, "server2", vendor_url, code, vendor, clock)
                assert update(second) == "up_to_date"
                assert pattern_version(second) == 1, "outside the ring that reported: never"

                with vendor.session() as session:
                    pull_rollout(session, "virus_pattern", 2, actor="e2e")
                assert update(first) == "success"
                assert pattern_version(first) == 3
                assert update(second) == "success"
                back = cssec("client", "update", "--dir", str(client))
                assert back.returncode == 0, back.stderr
                held = ClientState(client).load_installed().current[Component.VIRUS_PATTERN]
                assert held.version == 3
                assert held.sha256 == hashlib.sha256(good).hexdigest()
    finally:
        vendor.close()
