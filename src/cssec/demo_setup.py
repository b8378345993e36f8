"""Setting the demo up through the commands an operator types (`cssec demo`): a vendor with
a contract, a support-desk user and an offline TUF root; a server installed by online
registration; two clients installed and updated. Writes `demo.json` and prints the summary.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

from cssec.demo_mail import MailCatcher
from cssec.demo_processes import Demo, said, trusting, wait_until_up
from cssec.demo_summary import print_summary

DEMO_CUSTOMER = "デモ商事株式会社"
DEMO_CONTACT = "joho-system@demo-shoji.example"
"""The demo contract's contact: the address that signs in to the customer portal (its mail
arrives on the demo's received-mail page)."""
DEMO_CLIENTS = ("demo-pc-01", "demo-pc-02")


def _vendor_certificate(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the vendor on loopback (a real vendor has a CA's)."""
    from cssec.core.certs import make_self_signed  # noqa: PLC0415 - only the demo makes one

    key, cert = make_self_signed(["127.0.0.1", "localhost"], now=datetime.now(UTC))
    cert_file, key_file = root / "vendor-cert.pem", root / "vendor-key.pem"
    cert_file.write_bytes(cert)
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    return cert_file, key_file


def set_up(demo: Demo, vendor_port: int, server_port: int, mail: MailCatcher) -> None:
    root, console, lang = demo.root, demo.console, demo.lang
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

    with console.status(
        said(
            lang,
            "ライセンスサービス: 契約とサポート担当者を登録しています …",
            "Vendor: seeding a contract and a support-desk user …",
        )
    ):
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
                "vendor", "--lang", "en", "user", "enrol-2fa", "support", "--data", str(vendor_dir)
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
            f"{vendor_url}/api/v1/health",
            demo.processes,
            verify=trusting(vendor_cert_file),
            lang=lang,
        )
    # What a vendor's operator hands a customer out of band: the key's fingerprint.
    vendor_fingerprint = demo.run(
        "vendor", "keys", "public", "--fingerprint", "--data", str(vendor_dir)
    ).strip()
    with console.status(
        said(
            lang,
            "C/S Sec. サーバ: オンライン登録とインストール …",
            "C/S Sec. server: online registration and install …",
        )
    ):
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
            f"{server_url}/login",
            demo.processes,
            verify=trusting(server_dir / "tls-cert.pem"),
            lang=lang,
        )
    with console.status(
        said(
            lang,
            "クライアント2台: インストールとアップデート …",
            "Two clients: install and update …",
        )
    ):
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

    print_summary(console, root, summary, lang)
