"""`cssec demo` as a newcomer meets it: one command, real processes, pages up within a minute."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers.server import csrf_of

from cssec.demo_processes import trusting

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"cssec demo exited early with {process.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"cssec demo did not come up within {timeout:.0f} s")
        time.sleep(0.2)  # waiting for a real process, not for time to pass


def test_demo_starts_everything_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "CSSEC_VENDOR_DATABASE_URL"}
    process = subprocess.Popen(
        # English chosen (Japanese is the default, checked by test_demo_browser and
        # tests/test_demo_summary.py): the lines below are the English summary's.
        [sys.executable, "-m", "cssec", "demo", "--dir", str(root), "--lang", "en"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        _wait_for(root / "demo.json", process, timeout=180)
        demo = json.loads((root / "demo.json").read_text(encoding="utf-8"))

        assert demo["server_url"].startswith("https://")
        assert demo["vendor_url"].startswith("https://")
        assert demo["server_fingerprint"].startswith("sha256:")
        server_trust = trusting(Path(demo["server_cert"]))
        with httpx.Client(base_url=demo["server_url"], timeout=10, verify=server_trust) as web:
            admin = demo["server_admin"]
            licenses = web.get("/api/v1/licenses", auth=(admin["user"], admin["password"]))
            assert licenses.status_code == 200
            by_product = {slot["product"]: slot for slot in licenses.json()}
            assert set(by_product) == {"CS", "DCS"}
            assert all(slot["status"] == "activated" for slot in by_product.values())

        vendor_trust = trusting(Path(demo["vendor_cert"]))
        with httpx.Client(base_url=demo["vendor_url"], timeout=10, verify=vendor_trust) as vendor:
            login = vendor.get("/console/login")
            assert login.status_code == 200
            assert "csrf_token" in login.text
        # The console requires a second factor; the demo's admin has one, printed.
        assert demo["console_staff"]["totp_uri"].startswith("otpauth://totp/")
        assert len(demo["console_staff"]["totp_secret"]) == 32

        _holds_the_journeys(demo, env, server_trust, vendor_trust)

        for client_dir in demo["clients"]:
            status = subprocess.run(
                [sys.executable, "-m", "cssec", "client", "status", "--dir", client_dir, "--json"],
                capture_output=True, text=True, check=False, env=env,
            )  # fmt: skip
            assert status.returncode == 0, status.stderr
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
            pytest.fail("cssec demo did not stop within 30 s of Ctrl-C")
    assert process.returncode == 0, out.decode(errors="replace")[-2000:]
    printed = out.decode(errors="replace")
    # What the summary prints for the journeys (issue 23): the portal, the received mail,
    # and the lines that point another terminal's commands at this demo.
    for line in (
        f"Customer portal: {demo['portal_url']}",
        f"Received mail: {demo['mail_url']}",
        f"export CSSEC_VENDOR_DATA_DIR={demo['vendor_data']}",
        f"export CSSEC_SERVER_DATA_DIR={demo['server_data']}",
    ):
        assert line in printed, printed[-3000:]
    # The printed recipe of an offline server works as printed (serving it aside).
    lines = printed.split("An offline server beside this one", 1)[1].splitlines()[1:7]
    assert lines[-1].strip().endswith("--port 8444"), lines
    recipe = "\n".join(line.strip() for line in lines[:-1])
    made = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + recipe],
        capture_output=True, text=True, check=False, env=env, cwd=root,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert (root / "offline-server").is_dir()

    assert f"Server certificate: {demo['server_fingerprint']}".encode() in out
    assert f"{demo['server_url']}/".encode() in out
    assert f"Support desk TOTP: {demo['console_staff']['totp_uri']}".encode() in out
    assert b"Stopping" in out
    assert "Webマネージャ" not in printed


def _holds_the_journeys(
    demo: dict[str, Any], env: dict[str, str], server_trust: Any, vendor_trust: Any
) -> None:
    """The portal's sign-in link reaches the demo's mail page; a bundle can be made with the
    printed CSSEC_VENDOR_DATA_DIR alone; the two clients have names of their own."""
    assert demo["portal_contact"].endswith(".example")
    with httpx.Client(base_url=demo["vendor_url"], timeout=10, verify=vendor_trust) as vendor:
        form = vendor.get("/portal/")
        assert form.status_code == 200
        sent = vendor.post(
            "/portal/signin",
            data={"registration_key": demo["registration_key"], "email": demo["portal_contact"],
                  "csrf_token": csrf_of(form.text)},
        )  # fmt: skip
        assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 30
    links: list[str] = []
    while not links and time.monotonic() < deadline:
        mails = httpx.get(demo["mail_url"] + "api/mails", timeout=5).json()
        links = [m for m in mails if f"{demo['vendor_url']}/portal/signin/" in m["body"]]
        time.sleep(0.2)  # the mail leaves after the response: waiting for a real process
    assert links, "no sign-in link on the demo's mail page"
    assert links[0]["recipients"] == [demo["portal_contact"]]
    assert httpx.get(demo["mail_url"], timeout=5).status_code == 200

    with httpx.Client(base_url=demo["server_url"], timeout=10, verify=server_trust) as web:
        admin = demo["server_admin"]
        code = web.get("/api/v1/licenses", auth=(admin["user"], admin["password"])).json()[0]
        login = web.get("/login")
        web.post(
            "/login",
            data={"username": admin["user"], "password": admin["password"],
                  "csrf_token": csrf_of(login.text), "next": "/clients"},
        )  # fmt: skip
        clients = web.get("/clients").text
    assert all(name in clients for name in demo["client_names"]), demo["client_names"]
    assert len(set(demo["client_names"])) == 2

    bundle_env = {**env, "CSSEC_VENDOR_DATA_DIR": demo["vendor_data"]}
    bundle = Path(demo["vendor_data"]).parent / "site.bundle"
    made = subprocess.run(
        [sys.executable, "-m", "cssec", "vendor", "component", "bundle",
         "--code", code["activation_code"], "--out", str(bundle)],
        capture_output=True, text=True, check=False, env=bundle_env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "CSSEC_VENDOR_DATA_DIR" in made.stderr  # it says which data it used
    assert bundle.stat().st_size > 0
