"""`cssec vendor webhook add|list`, `cssec vendor notices run`, and two real processes
sending each notice once against the same PostgreSQL database."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.smtp_sink import smtp_sink
from tests.helpers.webhook_receiver import Receiver, webhook_receiver
from typer.testing import CliRunner

from cssec.vendor_service import services
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.models import ContractNotice
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.settings import VendorSettings

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
runner = CliRunner()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        found.secret = SECRET
        yield found


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS", "127.0.0.1")  # the receiver
    monkeypatch.setenv("CSSEC_VENDOR_WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    data = str(tmp_path / "vendor")

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, [*args, "--data", data])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.exit_code, result.stdout, result.stderr

    return run


def test_cli_webhook_add_list_and_notices_run(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path, receiver: Receiver
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    events = "contract.created,contract.renewed"
    _, out, _ = cli("webhook", "add", receiver.url, "--events", events,
                    "--secret-file", str(secret_file))  # fmt: skip
    assert SECRET not in out
    _, out, _ = cli("webhook", "list")
    assert receiver.url in out
    assert "contract.created,contract.renewed" in out
    assert SECRET not in out
    assert "sha256:" in out
    code, _, err = cli("webhook", "add", "http://example.com/x", "--events", "code.revoked",
                       "--secret-file", str(secret_file), ok=False)  # fmt: skip
    assert code == 1
    assert "invalid_webhook_endpoint" in err
    cli("contract", "new", "--customer", "CLI KK", "--seats", "3",
        "--contact-email", "it@cli.example", "--language", "en")  # fmt: skip
    _, out, _ = cli("notices", "run")
    assert "delivered: 1" in out
    assert len(receiver.received()) == 1
    assert receiver.received()[0].verified["type"] == "contract.created"


# --- several processes ----------------------------------------------------------------------

_RUN = """
import sys
from cssec.vendor_service.cli import app
sys.argv = ["cssec", "notices", "run", "--data", sys.argv[1]]
app()
"""


@pytest.mark.postgres
@pytest.mark.e2e
def test_two_processes_send_each_notice_once(
    postgres_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """Two real processes run the scheduled work at once against one PostgreSQL database
    (the system clock, contracts ending today): every notice is mailed once, every webhook
    posted once."""
    from tests.vendor_service.conftest import _truncate  # noqa: PLC0415

    _truncate(postgres_url)
    with smtp_sink() as mailbox:
        settings = VendorSettings(
            data_dir=tmp_path / "vendor", database_url=postgres_url, background_jobs=False,
            webhook_allowed_targets="127.0.0.1", webhook_allow_http=True,
        )  # fmt: skip
        vendor = open_vendor(settings)
        try:
            today = datetime.now(UTC).date()
            with vendor.session() as session:
                services.add_webhook_endpoint(
                    session, url=receiver.url, secret=SECRET,
                    events=["license.expiring"], actor="t",
                )  # fmt: skip
                for n in range(12):
                    services.issue_contract(
                        session, customer=f"Race {n}", seats=2, months=1,
                        start=today - timedelta(days=_days_back(today)),
                        contact_email=f"it{n}@race.example", actor="t",
                    )  # fmt: skip
            env = {
                **os.environ,
                "CSSEC_VENDOR_DATABASE_URL": postgres_url,
                "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1",  # the receiver
                "CSSEC_VENDOR_WEBHOOK_ALLOW_HTTP": "true",
                "CSSEC_VENDOR_SMTP_HOST": mailbox.host,
                "CSSEC_VENDOR_SMTP_PORT": str(mailbox.port),
                "CSSEC_VENDOR_SMTP_SECURITY": "none",
                "CSSEC_VENDOR_SMTP_SENDER": "license@cssec.example",
                "LANG": "en_US.UTF-8",
            }
            procs = [
                subprocess.Popen(
                    [sys.executable, "-c", _RUN, str(settings.data_dir)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            outputs = [p.communicate(timeout=120) for p in procs]
            assert [p.returncode for p in procs] == [0, 0], outputs
            with vendor.session() as session:
                notices = session.scalars(select(ContractNotice)).all()
        finally:
            vendor.close()
        mails = mailbox.received()
    assert len(notices) == 12
    assert all(n.kind == "expiring_0" for n in notices)
    recipients = sorted(str(m["To"]) for m in mails)
    assert recipients == sorted(f"it{n}@race.example" for n in range(12))
    ids = [p.headers["webhook-id"] for p in receiver.received()]
    assert len(ids) == len(set(ids)) == 12
    assert all(p.error is None for p in receiver.received())


def _days_back(today: date) -> int:
    """A one-month term that ends today starts 27 to 31 days earlier."""
    for back in range(27, 33):
        if services.term_end(today - timedelta(days=back), 1) == today:
            return back
    raise AssertionError("no one-month term ends today")
