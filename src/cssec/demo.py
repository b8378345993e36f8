"""`cssec demo`: a vendor, a C/S Sec. server and two clients on loopback, in one command.

Each part runs as its own process and is set up through the same commands an operator
types, so the demo shows the real system, not a shortcut around it. Everything speaks HTTPS:
the vendor with a certificate made here (the server trusts it through --vendor-ca-file), the
server with the one its install made; clients pin it by its fingerprint.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from cssec.demo_mail import MailCatcher
from cssec.lifecycle import terminate_as_interrupt

CSSEC = [sys.executable, "-m", "cssec"]
HEARTBEAT_EVERY = 300.0
"""Seconds between the demo clients' heartbeats (the server calls a client offline after
30 minutes without contact)."""


def printed_command() -> str:
    """`cssec` as a newcomer can type it: the venv's script by its full path (the venv is
    usually not on PATH), else this interpreter running the package."""
    script = Path(sys.executable).parent / "cssec"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m cssec"


class DemoError(Exception):
    pass


DEMO_CUSTOMER = "デモ商事株式会社"
DEMO_CONTACT = "joho-system@demo-shoji.example"
"""The demo contract's contact: the address that signs in to the customer portal (its mail
arrives on the demo's received-mail page)."""
DEMO_CLIENTS = ("demo-pc-01", "demo-pc-02")


@dataclass
class Demo:
    root: Path
    console: Console
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    clients: list[Path] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    """CSSEC_* settings of the demo's processes (the vendor's mail server and portal URL)."""
    skipped: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Per client after failed heartbeats: (failures in a row, beats still to skip)."""

    def heartbeats(self) -> None:
        """Each client says it is up, as an installed client's service would.

        A failure is one line. A client the server no longer recognises (removed in the
        Web manager) is said once and left alone; after any other failure a client skips
        1, 2, 4 … (at most 12) beats before it tries again."""
        for client in list(self.clients):
            failures, wait = self.skipped.get(client, (0, 0))
            if wait:
                self.skipped[client] = (failures, wait - 1)
                continue
            try:
                self.run("client", "heartbeat", "--dir", str(client))
            except DemoError as exc:
                said = " ".join(str(exc).split())
                if "error: not_authenticated:" in said:
                    self.clients.remove(client)
                    self._say(f"{client.name}: the server no longer knows this client (removed "
                              f"in the Web manager?); its heartbeats stop. {said}")  # fmt: skip
                    continue
                wait = min(2**failures, 12)
                self.skipped[client] = (failures + 1, wait)
                self._say(f"{client.name}: heartbeat failed (next try in {wait + 1} beats): {said}")
            else:
                self.skipped.pop(client, None)

    def _say(self, line: str) -> None:
        self.console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)

    def run(self, *args: str, secret_input: str | None = None) -> str:
        """Runs one cssec command to completion and returns its standard output."""
        result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [*CSSEC, *args],
            capture_output=True,
            text=True,
            check=False,
            input=secret_input,
            env=self._env(),
        )
        if result.returncode != 0:
            reason = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
            raise DemoError(f"`cssec {' '.join(args[:3])}` failed: {' '.join(reason)}")
        return result.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        # A process group of its own: `stop` can kill a straggler with its workers.
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [*CSSEC, *args], stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)

    def stop(self) -> None:
        # A second Ctrl-C or SIGTERM must not cut this short and leave orphans: it ends
        # within the deadline below anyway (then the stragglers are killed). The children
        # run in sessions of their own, so a terminal's Ctrl-C reaches only this process;
        # each child gets exactly one SIGTERM from here (uvicorn's graceful stop).
        previous = [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]
        try:
            for process in reversed(self.processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in self.processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)  # its workers too
                    process.wait()
        finally:
            signal.signal(signal.SIGINT, previous[0] or signal.SIG_DFL)
            signal.signal(signal.SIGTERM, previous[1] or signal.SIG_DFL)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("CSSEC_VENDOR_DATABASE_URL", None)  # the demo is SQLite only
        env.update(self.settings)
        return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def trusting(cert: Path) -> ssl.SSLContext:
    """Verifies against exactly this certificate (the demo's own, self-signed)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.check_hostname = False  # the pin is the whole certificate
    return context


def wait_until_up(
    url: str,
    processes: Sequence[subprocess.Popen[bytes]],
    timeout: float = 60,
    verify: ssl.SSLContext | bool = True,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise DemoError(f"a process exited while waiting for {url}; see the logs")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, verify=verify).status_code < 500:
                return
        time.sleep(0.2)
    raise DemoError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def demo_directory(chosen: Path | None) -> Iterator[Path]:
    """`chosen` (made if missing, must be empty), kept afterwards; else a temporary
    directory, deleted when the demo stops."""
    if chosen is not None:
        chosen = chosen.resolve()
        chosen.mkdir(parents=True, exist_ok=True)
        if any(chosen.iterdir()):
            raise DemoError(f"{chosen} is not empty; choose an empty or new directory")
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix="cssec-demo-") as tmp:
        yield Path(tmp)


def run_demo(directory: Path | None = None, *, vendor_port: int = 0, server_port: int = 0) -> None:
    console = Console()
    # Ctrl-C (SIGINT) stops the demo even when it was started with SIGINT ignored, as a
    # shell's background job or nohup leaves it (Python keeps an inherited SIG_IGN).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # SIGTERM (systemd, `kill`) takes the way out Ctrl-C takes: the children are stopped.
    with terminate_as_interrupt(), demo_directory(directory) as root:
        demo = Demo(root=root, console=console)
        mail = MailCatcher(root / "mail").start()
        try:
            _set_up(demo, vendor_port or free_port(), server_port or free_port(), mail)
            if directory is None:
                console.print(
                    f"[bold]Ctrl-C stops everything and deletes {root}[/bold] "
                    "(start with --dir DIR to keep the data and logins).",
                    soft_wrap=True,
                )
            else:
                console.print(
                    f"[bold]Ctrl-C stops everything; the data stays in {root}.[/bold]",
                    soft_wrap=True,
                )
            next_beat = time.monotonic() + HEARTBEAT_EVERY
            while all(p.poll() is None for p in demo.processes):
                time.sleep(0.5)
                if time.monotonic() >= next_beat:
                    demo.heartbeats()
                    next_beat = time.monotonic() + HEARTBEAT_EVERY
            console.print("[red]A demo process exited unexpectedly; see the logs above.[/red]")
        except KeyboardInterrupt:
            console.print("Stopping …")
            console.file.flush()
        finally:
            demo.stop()
            mail.stop()
        if directory is not None:
            console.print(f"Stopped. The data and logs are in {root}", soft_wrap=True)


def _vendor_certificate(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the vendor on loopback (a real vendor has a CA's)."""
    from cssec.core.certs import make_self_signed  # noqa: PLC0415 - only the demo makes one

    key, cert = make_self_signed(["127.0.0.1", "localhost"], now=datetime.now(UTC))
    cert_file, key_file = root / "vendor-cert.pem", root / "vendor-key.pem"
    cert_file.write_bytes(cert)
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    return cert_file, key_file


def _set_up(demo: Demo, vendor_port: int, server_port: int, mail: MailCatcher) -> None:
    root, console = demo.root, demo.console
    vendor_dir, server_dir = root / "vendor", root / "server"
    vendor_url = f"https://127.0.0.1:{vendor_port}"
    server_url = f"https://127.0.0.1:{server_port}"
    # The vendor mails through the demo's catcher (sign-in links, notices), and puts its own
    # address in the portal's links.
    demo.settings.update(
        CSSEC_VENDOR_SMTP_HOST="127.0.0.1",
        CSSEC_VENDOR_SMTP_PORT=str(mail.smtp_port),
        CSSEC_VENDOR_SMTP_SECURITY="none",
        CSSEC_VENDOR_SMTP_SENDER="licenses@cssec-demo.example",
        CSSEC_VENDOR_PORTAL_URL=vendor_url,
    )
    vendor_cert_file, vendor_key_file = _vendor_certificate(root)
    staff_password = secrets.token_urlsafe(12)
    admin_password = secrets.token_urlsafe(12)
    password_file = root / "admin-password.txt"
    password_file.write_text(admin_password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    staff_file = root / "staff-password.txt"
    staff_file.write_text(staff_password + "\n", encoding="utf-8")
    staff_file.chmod(0o600)

    with console.status("Vendor: seeding a contract and a support-desk user …"):
        demo.run(
            "vendor",
            "user",
            "add",
            "support",
            "--password-file",
            str(staff_file),
            "--role",
            "admin",
            "--data",
            str(vendor_dir),
        )
        out = demo.run(
            "vendor",
            "contract",
            "new",
            "--customer",
            DEMO_CUSTOMER,
            "--seats",
            "25",
            "--with-dcs",
            "--contact-email",
            DEMO_CONTACT,
            "--data",
            str(vendor_dir),
        )
        registration_key = out.strip().splitlines()[-1].strip()
        # The offline TUF root (kept beside, not inside, the data): bundles can then be made
        # for an offline site (docs/journeys.md, section 5).
        root_keys = root / "tuf-root-keys"
        demo.run("vendor", "keys", "root", "init", "--out", str(root_keys))
        demo.run(
            "vendor", "tuf", "root", "install", "--root-keys", str(root_keys),
            "--data", str(vendor_dir),
        )  # fmt: skip
        # The console requires a second factor: the demo enrols its admin as an operator
        # would (`vendor user enrol-2fa`) and prints the secret for an authenticator app.
        totp = dict(
            line.split(": ", 1)
            for line in demo.run(
                "vendor", "user", "enrol-2fa", "support", "--data", str(vendor_dir)
            ).splitlines()
            if ": " in line
        )
        demo.start(
            "vendor",
            "vendor",
            "serve",
            "--data",
            str(vendor_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(vendor_port),
            "--tls-cert",
            str(vendor_cert_file),
            "--tls-key",
            str(vendor_key_file),
        )
        wait_until_up(
            f"{vendor_url}/api/v1/health", demo.processes, verify=trusting(vendor_cert_file)
        )
    # What a vendor's operator hands a customer out of band: the key's fingerprint.
    vendor_fingerprint = demo.run(
        "vendor", "keys", "public", "--fingerprint", "--data", str(vendor_dir)
    ).strip()
    with console.status("C/S Sec. server: online registration and install …"):
        demo.run(
            "server",
            "install",
            "--data",
            str(server_dir),
            "--vendor-url",
            vendor_url,
            "--registration-key",
            registration_key,
            "--admin-password-file",
            str(password_file),
            "--company",
            DEMO_CUSTOMER,
            "--contact-email",
            DEMO_CONTACT,
            "--vendor-key-fingerprint",
            vendor_fingerprint,
            "--vendor-ca-file",
            str(vendor_cert_file),
            "--hostname",
            "127.0.0.1",
            "--hostname",
            "localhost",
        )
        # What the administrator hands to clients: the certificate's fingerprint.
        fingerprint = demo.run("server", "cert", "show", "--data", str(server_dir))
        fingerprint = fingerprint.strip().splitlines()[-1]
        demo.start(
            "server",
            "server",
            "serve",
            "--data",
            str(server_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(server_port),
        )
        wait_until_up(
            f"{server_url}/login", demo.processes, verify=trusting(server_dir / "tls-cert.pem")
        )
    with console.status("Two clients: install and update …"):
        for name, hostname in zip(("client-1", "client-2"), DEMO_CLIENTS, strict=True):
            demo.run(
                "client", "install", "--server", server_url, "--fingerprint", fingerprint,
                "--dir", str(root / name), "--hostname", hostname,
            )  # fmt: skip
            demo.run("client", "update", "--dir", str(root / name))
            demo.clients.append(root / name)
        demo.heartbeats()

    summary = {
        "vendor_url": vendor_url,
        "server_url": server_url,
        "server_fingerprint": fingerprint,
        "server_cert": str(server_dir / "tls-cert.pem"),
        "vendor_cert": str(vendor_cert_file),
        "server_admin": {"user": "admin", "password": admin_password},
        "console_staff": {
            "user": "support",
            "password": staff_password,
            "totp_secret": totp["totp secret"],
            "totp_uri": totp["totp uri"],
        },
        "registration_key": registration_key,
        "clients": [str(root / "client-1"), str(root / "client-2")],
        "client_names": list(DEMO_CLIENTS),
        "portal_url": f"{vendor_url}/portal/",
        "portal_contact": DEMO_CONTACT,
        "mail_url": mail.url,
        "smtp": f"127.0.0.1:{mail.smtp_port}",
        "vendor_data": str(vendor_dir),
        "server_data": str(server_dir),
    }
    summary_file = root / "demo.json"
    summary_file.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    summary_file.chmod(0o600)

    _print_summary(console, root, summary)


def _print_summary(console: Console, root: Path, summary: dict[str, Any]) -> None:
    server_url, vendor_url = summary["server_url"], summary["vendor_url"]
    fingerprint = summary["server_fingerprint"]
    admin, staff = summary["server_admin"]["password"], summary["console_staff"]["password"]
    table = Table(title="cssec demo", show_header=False)
    table.add_row("Web manager", f"{server_url}/  admin / {admin}")
    table.add_row("Server certificate", fingerprint)
    table.add_row("Support desk", f"{vendor_url}/console/  support / {staff}")
    table.add_row("Support desk TOTP", summary["console_staff"]["totp_secret"])
    table.add_row(
        "Customer portal",
        f"{summary['portal_url']}  {summary['registration_key']} / {summary['portal_contact']}",
    )
    table.add_row("Received mail", summary["mail_url"])
    table.add_row("Vendor certificate", summary["vendor_cert"])
    table.add_row("Registration key", summary["registration_key"])
    table.add_row(
        "Clients",
        ", ".join(
            f"{name} ({path})"
            for name, path in zip(summary["client_names"], summary["clients"], strict=True)
        ),
    )
    table.add_row("Data and logs", str(root))
    table.add_row("All of the above", str(root / "demo.json"))
    console.print(table)
    # Unwrapped, to compare with what a browser shows for https://127.0.0.1:…
    console.print(f"Server certificate: {fingerprint}", soft_wrap=True)
    console.print(f"Web manager: {server_url}/", soft_wrap=True)
    console.print(f"Customer portal: {summary['portal_url']}", soft_wrap=True)
    console.print(f"Received mail: {summary['mail_url']}", soft_wrap=True)
    # The authenticator app's entry for the support desk (or type the secret in).
    console.print(f"Support desk TOTP: {summary['console_staff']['totp_uri']}", soft_wrap=True)
    # Unwrapped too, so that it runs as printed when pasted into a shell.
    cssec = printed_command()
    client_dir = shlex.quote(str(root / "client-1"))
    console.print("Try (a scan of this client's files, then its status):", soft_wrap=True)
    console.print(f"  {cssec} client scan PATH --dir {client_dir}", soft_wrap=True, markup=False)
    console.print(f"  {cssec} client status --dir {client_dir}", soft_wrap=True, markup=False)
    # Another terminal's `cssec vendor …` / `cssec server …` then act on this demo.
    console.print("In another terminal, to work on this demo without --data:", soft_wrap=True)
    for variable, key in (
        ("CSSEC_VENDOR_DATA_DIR", "vendor_data"),
        ("CSSEC_SERVER_DATA_DIR", "server_data"),
    ):
        line = f"  export {variable}={shlex.quote(summary[key])}"
        console.print(line, soft_wrap=True, markup=False)
    console.print(
        "An offline server beside this one (no vendor URL; a bundle brings its components):",
        soft_wrap=True,
    )
    for line in offline_recipe(cssec, root, summary):
        console.print(f"  {line}", soft_wrap=True, markup=False)
    console.print(
        "The journeys (the offline site in full, the portal, the support desk): docs/journeys.md",
        soft_wrap=True,
    )


def offline_recipe(cssec: str, root: Path, summary: dict[str, Any]) -> list[str]:
    """Shell lines that install an offline server from this demo's vendor, as the support
    desk and a site's administrator would (docs/journeys.md, section 5): the vendor's key
    file, a code for the site, a component bundle. Paths are absolute: paste anywhere."""

    def q(path: Path | str) -> str:
        return shlex.quote(str(path))

    vendor = f"--data {q(summary['vendor_data'])}"
    offline, keys, bundle = (
        root / "offline-server",
        root / "vendor-keys.json",
        root / "offline.bundle",
    )
    key = q(summary["registration_key"])
    return [
        f"{cssec} vendor keys public {vendor} > {q(keys)}",
        f"CODE=$({cssec} vendor code reissue {key} --product CS {vendor} | tail -n 1)",
        f'{cssec} server install --data {q(offline)} --offline --activation-code "$CODE" '
        f"--vendor-keys-file {q(keys)} --admin-password-file {q(root / 'admin-password.txt')} "
        "--hostname 127.0.0.1",
        f'{cssec} vendor component bundle --code "$CODE" --out {q(bundle)} {vendor}',
        f"{cssec} server components import {q(bundle)} --data {q(offline)}",
        f"{cssec} server serve --data {q(offline)} --port 8444",
    ]
