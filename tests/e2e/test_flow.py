"""The whole product end to end: vendor, server and clients as an operator runs them.

`test_flow_with_real_processes`: every part is a real `cssec` process on loopback:
`vendor serve`, `vendor contract new`, `server install` (online, registration key),
`server serve` (HTTPS with the certificate made at install), two `client install`
(AutoPcc with the certificate's fingerprint, and web with a token issued on the Web manager
page, which carries it), `client update`, and `client scan` of an EICAR file made at
runtime, whose detection is then read off the Web manager's virus log page.

`test_flow_after_the_grace_period`: the license must lapse, and no production process
takes a fake clock. So the vendor and server apps run in this process with one shared
FakeClock, each behind a real uvicorn on a loopback port (everything still crosses real
HTTP), and the client runs as real `python -m cssec client …` processes against them.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from tests.helpers.e2e_server import free_port, wait_up

from cssec.client.pinning import pinned_context
from cssec.core.certs import pem_to_der
from cssec.core.clock import FakeClock
from cssec.server.app import create_app as create_server_app
from cssec.server.licensing.install import InstallRequest, install_server
from cssec.server.licensing.trust import VendorTrust
from cssec.server.models import ClientUpdateLog
from cssec.server.settings import ServerSettings
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]
PASSWORD = "e2e-flow-password"
TZ = "Asia/Tokyo"


def _fingerprint(vendor_dir: Path) -> str:
    """The vendor's current key as its operator hands it out of band."""
    shown = cssec("vendor", "keys", "public", "--fingerprint", "--data", str(vendor_dir))
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.strip().splitlines()[-1]


def eicar() -> bytes:
    """The EICAR test string, joined at runtime so no file of the repo holds it whole."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _env(lang: str = "en_US.UTF-8") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": TZ, "PYTHONUNBUFFERED": "1"}
    return env


def cssec(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=_env(lang), timeout=180, check=False
    )


@contextmanager
def _process(
    args: list[str], log: Path, health: str, verify: ssl.SSLContext | bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    handle: IO[bytes] = log.open("wb")
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=_env())
    try:
        wait_up(health, process, log, verify=verify)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        handle.close()


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """`app` behind a real uvicorn on a loopback port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning", ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_up(f"{url}/api/v1/health", None, None)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _login(server_url: str, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    web = httpx.Client(
        base_url=server_url, timeout=30, headers={"Accept-Language": "ja"}, verify=verify
    )
    page = web.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    response = web.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert response.status_code == 303, response.text
    return web


def _issue_web_token(web: httpx.Client) -> str:
    page = web.get("/clients/install/web")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    issued = web.post("/clients/install/web", data={"csrf_token": csrf.group(1)})
    command = re.search(r'data-testid="install-command">([^<]+)</pre>', issued.text)
    assert command, issued.text
    token = re.search(r"--token (\S+)", command.group(1))
    assert token
    return token.group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_flow_with_real_processes(tmp_path: Path) -> None:
    vendor_dir, server_dir = tmp_path / "vendor", tmp_path / "server"
    vendor_port, server_port = free_port(), free_port()
    vendor_url = f"http://127.0.0.1:{vendor_port}"
    server_url = f"https://127.0.0.1:{server_port}"
    vendor_cmd = [*CSSEC, "vendor", "serve", "--data", str(vendor_dir), "--port", str(vendor_port)]
    with _process(vendor_cmd, tmp_path / "vendor.log", f"{vendor_url}/api/v1/health"):
        contract = cssec(
            "vendor", "contract", "new", "--customer", "株式会社E2E", "--seats", "10",
            "--with-dcs", "--data", str(vendor_dir),
        )  # fmt: skip
        assert contract.returncode == 0, contract.stderr
        registration_key = contract.stdout.strip().splitlines()[-1]
        password_file = tmp_path / "admin.pw"
        password_file.write_text(PASSWORD + "\n")
        installed = cssec(
            "server", "install", "--data", str(server_dir), "--vendor-url", vendor_url,
            "--registration-key", registration_key, "--admin-password-file", str(password_file),
            "--vendor-key-fingerprint", _fingerprint(vendor_dir),
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
        shown = cssec("server", "cert", "show", "--data", str(server_dir))
        fingerprint = shown.stdout.strip().splitlines()[-1]
        pinned = pinned_context(pem_to_der((server_dir / "tls-cert.pem").read_bytes()))
        server_cmd = [*CSSEC, "server", "serve", "--data", str(server_dir)]
        server_cmd += ["--port", str(server_port)]
        health = f"{server_url}/api/v1/health"
        with _process(server_cmd, tmp_path / "server.log", health, verify=pinned):
            first, second = tmp_path / "client1", tmp_path / "client2"
            auto = cssec(
                "client", "install", "--server", server_url, "--fingerprint", fingerprint,
                "--dir", str(first),
            )  # fmt: skip
            assert auto.returncode == 0, auto.stderr
            web = _login(server_url, verify=pinned)
            token = _issue_web_token(web)
            by_web = cssec(
                "client", "install", "--server", server_url, "--token", token,
                "--route", "web", "--dir", str(second),
            )  # fmt: skip
            assert by_web.returncode == 0, by_web.stderr
            update = cssec("client", "update", "--dir", str(first))
            assert update.returncode == 0, update.stderr
            infected = tmp_path / "share" / "eicar.com"
            infected.parent.mkdir()
            infected.write_bytes(eicar())
            scan = cssec("client", "scan", str(infected.parent), "--dir", str(second))
            assert scan.returncode == 1, scan.stdout + scan.stderr
            assert "eicar.com" in scan.stdout
            virus_log = _text(web.get("/logs/virus").text)
            assert "Eicar_test_file" in virus_log
            assert str(infected) in virus_log
            clients = web.get("/clients").text
            assert clients.count("data-client=") == 2
            connections = _text(web.get("/logs/connection").text)
            assert "ウイルスログの送信" in connections  # the request, by its label
            assert "アップデート情報の取得" in connections  # the client's TUF metadata
            web.close()


def _day_after_grace(end: Any) -> datetime:
    day = end + timedelta(days=45)
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


def test_flow_after_the_grace_period(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    vendor_app = create_vendor_app(VendorSettings(data_dir=tmp_path / "vendor"), clock=clock)
    try:
        with vendor_app.state.vendor.session() as session:
            contract = issue_contract(
                session, customer="株式会社猶予", seats=5, actor="e2e", with_dcs=False
            )
        with _served(vendor_app) as vendor_url:
            server_dir = tmp_path / "server"
            request = InstallRequest(
                data_dir=server_dir,
                vendor_url=vendor_url,
                admin_password=PASSWORD,
                registration_key=contract.registration_key,
                trust=VendorTrust(keys=tuple(vendor_app.state.vendor.keyring.verifying_keys[:1])),
            )
            asyncio.run(install_server(request, clock=clock, tz=ZoneInfo(TZ)))
            settings = ServerSettings(data_dir=server_dir, timezone=TZ, online_checks=False)
            server_app = create_server_app(settings, clock=clock, start_scheduler=False)
            with _served(server_app) as server_url:
                _after_grace(tmp_path, clock, contract.end, server_url, server_app)
    finally:
        vendor_app.state.vendor.close()


def _after_grace(
    tmp_path: Path, clock: FakeClock, end: Any, server_url: str, server_app: Any
) -> None:
    first, late = tmp_path / "client1", tmp_path / "client-late"
    installed = cssec("client", "install", "--server", server_url, "--dir", str(first))
    assert installed.returncode == 0, installed.stderr
    assert cssec("client", "update", "--dir", str(first)).returncode == 0

    clock.set(_day_after_grace(end))
    refused = cssec("client", "update", "--dir", str(first))
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "Nothing was updated" in said
    assert "license has expired" in said
    assert "Ask your administrator" in said  # told to the person at this PC
    assert "completed" not in said.lower()
    refused_ja = cssec("client", "update", "--dir", str(first), lang="ja_JP.UTF-8")
    assert refused_ja.returncode != 0
    assert "完了" not in refused_ja.stdout + refused_ja.stderr
    assert "有効期限が切れています" in refused_ja.stderr
    assert "管理者にお問い合わせください" in refused_ja.stderr

    # Installing a new client still works; it says why it has no components.
    late_install = cssec("client", "install", "--server", server_url, "--dir", str(late))
    assert late_install.returncode == 0, late_install.stderr
    assert "Components could not be fetched because the license has expired" in late_install.stderr

    # Scanning still works with the pattern the client has.
    infected = tmp_path / "eicar.com"
    infected.write_bytes(eicar())
    scan = cssec("client", "scan", str(infected), "--dir", str(first))
    assert scan.returncode == 1, scan.stdout + scan.stderr

    # The refusals are in the server's update log (client), and the detection in the virus log.
    with server_app.state.server.sessionmaker() as session:
        results = [row.result for row in session.scalars(select(ClientUpdateLog))]
    assert results.count("refused") >= 2
    assert results[0] in {"success", "up_to_date"}
    web = _login(server_url)
    assert "Eicar_test_file" in _text(web.get("/logs/virus").text)
    web.close()
