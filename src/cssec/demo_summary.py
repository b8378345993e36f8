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


_LABELS: dict[str, tuple[str, str]] = {
    "web_manager": ("Webマネージャ", "Web manager"),
    "server_cert": ("サーバ証明書の指紋", "Server certificate"),
    "console": ("法人お問合せ窓口のコンソール", "Support desk"),
    "totp": ("コンソールの2段階認証", "Support desk TOTP"),
    "portal": ("お客様ポータル", "Customer portal"),
    "mail": ("受信メール", "Received mail"),
    "vendor_cert": ("ライセンスサービスの証明書", "Vendor certificate"),
    "registration_key": ("レジストレーションキー", "Registration key"),
    "clients": ("クライアント", "Clients"),
    "data": ("データとログ", "Data and logs"),
    "all": ("以上のすべて", "All of the above"),
}
"""The summary's labels, (ja, en): the wording of docs/journeys.md, section 1."""

_LINES: dict[str, tuple[str, str]] = {
    "try": (
        "試してみる（このクライアントでファイルをスキャンし、次に状態を表示します）:",
        "Try (a scan of this client's files, then its status):",
    ),
    "export": (
        "ほかの端末で--dataなしでこのデモを操作するには:",
        "In another terminal, to work on this demo without --data:",
    ),
    "offline": (
        "このサーバの隣にオフラインのサーバを作る手順"
        "（ライセンスサービスのURLなし。コンポーネントはバンドルで届けます）:",
        "An offline server beside this one (no vendor URL; a bundle brings its components):",
    ),
    "journeys": (
        "利用の流れ（オフラインのサイトの全体、ポータル、法人お問合せ窓口）: docs/journeys.md",
        "The journeys (the offline site in full, the portal, the support desk): docs/journeys.md",
    ),
}


def print_summary(console: Console, root: Path, summary: dict[str, Any], lang: str = "ja") -> None:
    """The summary in `lang` (ja or en); the values (URLs, logins, fingerprints, commands,
    paths) are the same in both, and the lines to paste or compare are never wrapped."""
    index = 1 if lang == "en" else 0

    def label(key: str) -> str:
        return _LABELS[key][index]

    def line(key: str) -> str:
        return _LINES[key][index]

    server_url, vendor_url = summary["server_url"], summary["vendor_url"]
    fingerprint = summary["server_fingerprint"]
    admin, staff = summary["server_admin"]["password"], summary["console_staff"]["password"]
    table = Table(title="cssec demo", show_header=False)
    table.add_row(label("web_manager"), f"{server_url}/  admin / {admin}")
    table.add_row(label("server_cert"), fingerprint)
    table.add_row(label("console"), f"{vendor_url}/console/  support / {staff}")
    table.add_row(label("totp"), summary["console_staff"]["totp_secret"])
    table.add_row(
        label("portal"),
        f"{summary['portal_url']}  {summary['registration_key']} / {summary['portal_contact']}",
    )
    table.add_row(label("mail"), summary["mail_url"])
    table.add_row(label("vendor_cert"), summary["vendor_cert"])
    table.add_row(label("registration_key"), summary["registration_key"])
    table.add_row(
        label("clients"),
        ", ".join(
            f"{name} ({path})"
            for name, path in zip(summary["client_names"], summary["clients"], strict=True)
        ),
    )
    table.add_row(label("data"), str(root))
    table.add_row(label("all"), str(root / "demo.json"))
    console.print(table)
    # Unwrapped, to compare with what a browser shows for https://127.0.0.1:…
    for key, value in (
        ("server_cert", fingerprint),
        ("web_manager", f"{server_url}/"),
        ("portal", summary["portal_url"]),
        ("mail", summary["mail_url"]),
        # The authenticator app's entry for the support desk (or type the secret in).
        ("totp", summary["console_staff"]["totp_uri"]),
    ):
        console.print(f"{label(key)}: {value}", soft_wrap=True, markup=False)
    # Unwrapped too, so that it runs as printed when pasted into a shell.
    cssec = printed_command()
    client_dir = shlex.quote(str(root / "client-1"))
    console.print(line("try"), soft_wrap=True)
    console.print(f"  {cssec} client scan PATH --dir {client_dir}", soft_wrap=True, markup=False)
    console.print(f"  {cssec} client status --dir {client_dir}", soft_wrap=True, markup=False)
    # Another terminal's `cssec vendor …` / `cssec server …` then act on this demo.
    console.print(line("export"), soft_wrap=True)
    for variable, key in (
        ("CSSEC_VENDOR_DATA_DIR", "vendor_data"),
        ("CSSEC_SERVER_DATA_DIR", "server_data"),
    ):
        export = f"  export {variable}={shlex.quote(summary[key])}"
        console.print(export, soft_wrap=True, markup=False)
    console.print(line("offline"), soft_wrap=True)
    for recipe_line in offline_recipe(cssec, root, summary):
        console.print(f"  {recipe_line}", soft_wrap=True, markup=False)
    console.print(line("journeys"), soft_wrap=True)


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
