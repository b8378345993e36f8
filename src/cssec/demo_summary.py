"""What the demo prints once it is up (`cssec demo`): where everything is, the logins, and
commands that run as printed, an offline server's recipe included.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def printed_command() -> str:
    """`cssec` as a newcomer can type it: the venv's script by its full path (the venv is
    usually not on PATH), else this interpreter running the package."""
    script = Path(sys.executable).parent / "cssec"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m cssec"


def print_summary(console: Console, root: Path, summary: dict[str, Any]) -> None:
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
