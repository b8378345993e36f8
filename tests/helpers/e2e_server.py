"""Real processes on loopback ports for the server's end-to-end and browser tests."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import httpx

from cssec.client.pinning import pinned_context
from cssec.core.certs import pem_to_der, spki_sha256_base64, summarize
from cssec.core.signing import VerifyingKey
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.services import (
    IssuedContract,
    issue_contract,
    issue_replacement_code,
    renew_contract,
)
from cssec.vendor_service.settings import VendorSettings

REPO = Path(__file__).resolve().parents[2]
VENDOR_LAUNCHER = REPO / "tests" / "e2e" / "server" / "vendor_launcher.py"
ARTIFACTS = REPO / "test-artifacts" / "server"
PASSWORD = "e2e-admin-password"
SERVER_CLI = [sys.executable, "-m", "cssec.server"]


def vendor_fingerprint(vendor: Vendor) -> str:
    """The vendor's current key, as its operator hands it out of band."""
    return VerifyingKey.from_jwk(vendor.keyring.jwks()["keys"][0]).fingerprint


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSSEC_")}
    env["CSSEC_SERVER_TIMEZONE"] = "Asia/Tokyo"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_server_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVER_CLI, *args],
        capture_output=True,
        text=True,
        check=False,
        env=server_env(),
        timeout=120,
    )


@dataclass
class Stack:
    root: Path
    vendor_url: str
    server_url: str
    server_dir: Path
    vendor: Vendor
    contract: IssuedContract
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def certificate(self) -> bytes:
        """The server's TLS certificate (PEM) as it is in the data directory now."""
        return (self.server_dir / "tls-cert.pem").read_bytes()

    @property
    def fingerprint(self) -> str:
        """What clients pin (`cssec server cert show`, last line)."""
        return summarize(self.certificate).fingerprint

    @property
    def spki(self) -> str:
        """For Chromium's --ignore-certificate-errors-spki-list: this certificate only."""
        return spki_sha256_base64(pem_to_der(self.certificate))

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """For httpx in tests: trust exactly the server's certificate (HTTPS stacks)."""
        if not self.server_url.startswith("https:"):
            return True
        return pinned_context(pem_to_der(self.certificate))

    def restart_server(self) -> None:
        """Stop `serve` and start it again on the same port: what an administrator does
        after `cssec server cert renew` (the certificate is read when serving starts)."""
        server = self.processes[1]
        server.terminate()
        server.wait(timeout=15)
        port = int(self.server_url.rsplit(":", 1)[1])
        tls = self.server_url.startswith("https:")
        log_path = self.root / f"server-{len(self.logs)}.log"
        process, log = _start(serve_command(self.server_dir, port, tls=tls), log_path)
        self.processes[1] = process
        self.logs.append(log)
        wait_up(f"{self.server_url}/api/v1/health", process, log_path, verify=self.verify)

    def renew(self, months: int = 12) -> None:
        with self.vendor.session() as session:
            renew_contract(session, self.contract.registration_key, months=months, actor="e2e")

    def reissue(self, product: str = "CS") -> str:
        with self.vendor.session() as session:
            return issue_replacement_code(
                session, self.contract.registration_key, product=product, actor="e2e"
            )

    def code_in_grace(self, product: str = "DCS", days_ago: int = 10) -> str:
        """A code of a contract that ended `days_ago` days ago (now in its grace period)."""
        start = date.today() - timedelta(days=days_ago)
        start = start.replace(year=start.year - 1) + timedelta(days=1)
        with self.vendor.session() as session:
            ending = issue_contract(
                session, customer="猶予中", seats=5, start=start, with_dcs=True, actor="e2e"
            )
        return ending.codes[product]

    def lapsed_code(self) -> str:
        with self.vendor.session() as session:
            old = issue_contract(
                session, customer="旧契約", seats=5, start=date(2024, 1, 1), actor="e2e"
            )
        return old.codes["CS"]


def _start(
    cmd: list[str], log: Path, *, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    handle = log.open("wb")
    env = {**server_env(), **(extra_env or {})}
    process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return process, handle


def wait_up(
    url: str,
    process: subprocess.Popen[bytes] | None,
    log: Path | None,
    timeout: float = 60,
    verify: ssl.SSLContext | bool = True,
) -> None:
    """Until `url` answers; `process` None: a server in this process (nothing to watch)."""

    def output() -> str:
        return log.read_text(errors="replace") if log else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{output()}")
        try:
            if httpx.get(url, timeout=2, verify=verify).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up:\n{output()}")


def serve_command(server_dir: Path, port: int, *, tls: bool = True) -> list[str]:
    command = [*SERVER_CLI, "serve", "--data", str(server_dir), "--port", str(port)]
    return command if tls else [*command, "--insecure-http"]


@contextmanager
def running_stack(
    root: Path, *, tls: bool = True, scheduled_checks: bool = True
) -> Iterator[Stack]:
    """A vendor process, a server installed by the real CLI (online registration with a
    registration key, C/S Sec. + Damage Cleanup Services) and its `serve` process: over
    HTTPS with the certificate made at install, or plain HTTP (`--insecure-http`) for the
    tests about something else that put a plain-HTTP proxy in the middle.
    `scheduled_checks=False`: the server's own timed work (status checks, the hourly poll)
    is off, for tests that drive every check themselves and read the state in between."""
    vendor_port, server_port = free_port(), free_port()
    vendor_dir, server_dir = root / "vendor", root / "server"
    vendor_url = f"http://127.0.0.1:{vendor_port}"  # loopback: plain HTTP is allowed
    server_url = f"{'https' if tls else 'http'}://127.0.0.1:{server_port}"
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    vendor: Vendor | None = None
    try:
        proc, log = _start(
            [sys.executable, str(VENDOR_LAUNCHER), str(vendor_dir), str(vendor_port)],
            root / "vendor.log",
        )
        processes.append(proc)
        logs.append(log)
        wait_up(f"{vendor_url}/api/v1/health", proc, root / "vendor.log")
        vendor = open_vendor(VendorSettings(data_dir=vendor_dir))
        with vendor.session() as session:
            contract = issue_contract(
                session, customer="株式会社E2E", seats=25, with_dcs=True, actor="e2e"
            )
        password_file = root / "admin.pw"
        password_file.write_text(PASSWORD + "\n")
        installed = run_server_cli(
            "install", "--data", str(server_dir), "--vendor-url", vendor_url,
            "--registration-key", contract.registration_key,
            "--admin-password-file", str(password_file),
            "--vendor-key-fingerprint", vendor_fingerprint(vendor),
        )  # fmt: skip
        if installed.returncode != 0:
            raise RuntimeError(f"install failed: {installed.stderr}")
        proc, log = _start(
            serve_command(server_dir, server_port, tls=tls), root / "server.log",
            extra_env=None if scheduled_checks else {"CSSEC_SERVER_ONLINE_CHECKS": "false"},
        )  # fmt: skip
        processes.append(proc)
        logs.append(log)
        stack = Stack(
            root=root,
            vendor_url=vendor_url,
            server_url=server_url,
            server_dir=server_dir,
            vendor=vendor,
            contract=contract,
            processes=processes,
            logs=logs,
        )
        wait_up(f"{server_url}/api/v1/health", proc, root / "server.log", verify=stack.verify)
        yield stack
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
        if vendor is not None:
            vendor.close()
