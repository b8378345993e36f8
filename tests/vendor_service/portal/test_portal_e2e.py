"""The issue's "Done when": a customer renews offline with no support-desk action.

Real processes on loopback ports: a vendor service mailing through a real SMTP sink, and
a C/S Sec. server installed offline whose vendor URL leads nowhere (no route to the
vendor). The contract is renewed at the vendor; the customer signs in to the portal by
the e-mailed link, takes and downloads the new activation code, and enters it in the
server's Web manager ([製品ライセンス] → [新規入力]): the server is extended.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.helpers.e2e_server import (
    PASSWORD,
    SERVER_CLI,
    VENDOR_LAUNCHER,
    free_port,
    run_server_cli,
    server_env,
    vendor_fingerprint,
    wait_up,
)
from tests.helpers.smtp_sink import Mailbox, smtp_sink

from cssec.vendor_service import services
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.settings import VendorSettings

pytestmark = [pytest.mark.e2e]

CONTACT = "soumu@offline.example.co.jp"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, html
    return found.group(1)


@dataclass
class OfflineSite:
    vendor_url: str
    server_url: str
    vendor: Vendor
    contract: services.IssuedContract
    mailbox: Mailbox


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[OfflineSite]:
    vendor_port, server_port, nowhere = free_port(), free_port(), free_port()
    vendor_url = f"http://127.0.0.1:{vendor_port}"
    processes: list[subprocess.Popen[bytes]] = []
    with (
        smtp_sink() as mailbox,
        (tmp_path / "vendor.log").open("wb") as vlog,
        (tmp_path / "server.log").open("wb") as slog,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CSSEC_")}
        env.update(
            CSSEC_VENDOR_SMTP_HOST=mailbox.host,
            CSSEC_VENDOR_SMTP_PORT=str(mailbox.port),
            CSSEC_VENDOR_SMTP_SECURITY="none",
            CSSEC_VENDOR_SMTP_SENDER="licenses@vendor.example",
        )
        vendor_dir = tmp_path / "vendor"
        cmd = [sys.executable, str(VENDOR_LAUNCHER), str(vendor_dir), str(vendor_port)]
        processes.append(subprocess.Popen(cmd, stdout=vlog, stderr=subprocess.STDOUT, env=env))
        vendor = open_vendor(VendorSettings(data_dir=vendor_dir))
        try:
            wait_up(f"{vendor_url}/api/v1/health", processes[0], tmp_path / "vendor.log")
            with vendor.session() as session:
                contract = services.issue_contract(
                    session, customer="株式会社オフライン", seats=10, contact_email=CONTACT,
                    actor="e2e",
                )  # fmt: skip
            (tmp_path / "admin.pw").write_text(PASSWORD + "\n")
            server_dir = tmp_path / "server"
            installed = run_server_cli(
                "install", "--data", str(server_dir),
                "--vendor-url", f"http://127.0.0.1:{nowhere}",  # no route to the vendor
                "--activation-code", contract.codes["CS"], "--offline",
                "--admin-password-file", str(tmp_path / "admin.pw"),
                "--vendor-key-fingerprint", vendor_fingerprint(vendor),
            )  # fmt: skip
            assert installed.returncode == 0, installed.stderr
            serve = [*SERVER_CLI, "serve", "--data", str(server_dir), "--port", str(server_port),
                     "--insecure-http"]  # fmt: skip
            processes.append(
                subprocess.Popen(serve, stdout=slog, stderr=subprocess.STDOUT, env=server_env())
            )
            server_url = f"http://127.0.0.1:{server_port}"
            wait_up(f"{server_url}/api/v1/health", processes[1], tmp_path / "server.log")
            yield OfflineSite(vendor_url, server_url, vendor, contract, mailbox)
        finally:
            _stop(processes)
            vendor.close()


def _mail(mailbox: Mailbox, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.received():
            return mailbox.received()[-1].get_content()
        time.sleep(0.1)
    raise AssertionError("no sign-in mail")


def _licenses(site: OfflineSite) -> dict[str, dict[str, str]]:
    answer = httpx.get(f"{site.server_url}/api/v1/licenses", auth=("admin", PASSWORD))
    assert answer.status_code == 200, answer.text
    return {slot["product"]: slot for slot in answer.json()}


def test_a_customer_renews_an_offline_site_with_no_support_desk_action(site: OfflineSite) -> None:
    assert _licenses(site)["CS"]["expires_on"] == site.contract.end.isoformat()
    with site.vendor.session() as session:
        renewed = services.renew_contract(
            session, site.contract.contract_id, months=12, actor="e2e:billing"
        )
    # The portal, over real HTTP, signed in by the e-mailed link.
    with httpx.Client(base_url=site.vendor_url, follow_redirects=True) as portal:
        form = portal.get("/portal/")
        sent = portal.post("/portal/signin", data={
            "registration_key": site.contract.registration_key, "email": CONTACT,
            "csrf_token": csrf(form.text),
        })  # fmt: skip
        assert sent.status_code == 200
        link = re.search(r"http://127\.0\.0\.1:\d+(/portal/signin/\S+)", _mail(site.mailbox))
        assert link, "no link in the mail"
        button = portal.get(link.group(1))
        contract_page = portal.post(link.group(1), data={"csrf_token": csrf(button.text)})
        assert 'data-testid="offline-code-CS"' in contract_page.text
        taken = portal.post(
            f"/portal/contracts/{site.contract.contract_id}/offline-code",
            data={"product": "CS", "csrf_token": csrf(contract_page.text)},
        )
        download = re.search(r'href="([^"]+\.txt)" download data-testid="download-CS"', taken.text)
        assert download
        text = portal.get(download.group(1)).text
    new_code = next(line for line in text.splitlines() if line.startswith("CS-"))
    assert new_code != site.contract.codes["CS"]
    # The Web manager of the server, which cannot reach the vendor: [新規入力].
    with httpx.Client(base_url=site.server_url, follow_redirects=True) as manager:
        login = manager.get("/login")
        manager.post("/login", data={
            "username": "admin", "password": PASSWORD, "csrf_token": csrf(login.text),
        })  # fmt: skip
        entry = manager.get("/admin/licenses/activation-code?product=CS")
        assert entry.status_code == 200, entry.text
        answer = manager.post("/admin/licenses/activation-code", data={
            "activation_code": new_code, "product": "CS", "csrf_token": csrf(entry.text),
        })  # fmt: skip
        if 'name="confirm"' in answer.text:
            answer = manager.post("/admin/licenses/activation-code", data={
                "activation_code": new_code, "product": "CS", "confirm": "1",
                "csrf_token": csrf(answer.text),
            })  # fmt: skip
        assert answer.status_code == 200, answer.text
    slot = _licenses(site)["CS"]
    assert slot["expires_on"] == renewed.end.isoformat()
    # Entered on a server that cannot reach the vendor: in force, and said to be not yet
    # confirmed by the license server (it refuses nothing; issue 21).
    assert slot["status"] == "unconfirmed"
    assert slot["stopped"] == []
    assert slot["activation_code"].replace("-", "") == new_code.replace("-", "")
    # Nobody at the support desk did anything: the reissue is the customer's.
    with site.vendor.session() as session:
        actors = {e.actor for e in services.list_audit(session) if e.action == "code.reissued"}
    assert actors == {f"portal:{CONTACT}"}
