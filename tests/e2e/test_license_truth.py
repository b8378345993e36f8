"""Signed truth beats unsigned input (issue 21, reproductions 1 and 5), with real processes:
a vendor, a server (`serve`) and a client, the server's CLI run as an administrator would,
the vendor made unreachable (a dead port) and impersonated (`tests.helpers.attacker`
`impersonate_status`: a machine answering in the vendor's place with its own key).

Before: a self-made code (the public encoder, a random MAC key, 65535 seats, 2099-12-31)
entered while the vendor was away undid a revocation and clients updated again; the vendor's
signed "not ours" was treated as a failed check; a revoked license's refusals said it
expired. After: each step below.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from tests.helpers.e2e_server import PASSWORD, REPO, Stack, free_port, running_stack

from cssec.core.codes import MacKey, encode_activation_code
from cssec.core.license import Product
from cssec.vendor_service.services import revoke_code

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]
EXPIRY_WORDS = ("有効期限", "猶予期間", "expired", "grace period")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Every check here is run by the test (the CLI or the API), and the slot is read in
    # between: the server's own daily check of an unconfirmed slot must not race it.
    with running_stack(
        tmp_path_factory.mktemp("truth"), tls=False, scheduled_checks=False
    ) as running:
        yield running


def cssec(
    *args: str, lang: str = "en_US.UTF-8", vendor_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as a person runs it; `vendor_url` overrides where the server finds the vendor
    (CSSEC_SERVER_VENDOR_URL), to take it away or put an impostor in its place."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo", "PYTHONUNBUFFERED": "1"}
    if vendor_url is not None:
        env["CSSEC_SERVER_VENDOR_URL"] = vendor_url
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def self_made_code(serial: int) -> str:
    """What anyone can build with the public encoder: any MAC key, the most seats, 2099."""
    code = encode_activation_code(
        product=Product.CS,
        seats=65535,
        expires_on=date(2099, 12, 31),
        serial=serial,
        key=MacKey(1, secrets.token_bytes(32)),
    )
    return code.formatted


def slot(stack: Stack, product: str = "CS") -> dict[str, object]:
    """The slot as `GET /api/v1/licenses` shows it (the same view as `license show`)."""
    response = httpx.get(f"{stack.server_url}/api/v1/licenses", auth=("admin", PASSWORD))
    response.raise_for_status()
    [row] = [s for s in response.json() if s["product"] == product]
    return dict(row)


def events(stack: Stack, kind: str) -> int:
    with sqlite3.connect(stack.server_dir / "server.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM system_events WHERE kind = ?", (kind,)
        ).fetchone()
    return int(count)


def client_update(client_dir: Path, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    return cssec("client", "update", "--dir", str(client_dir), lang=lang)


def distribution_refusal(stack: Stack, client_dir: Path) -> dict[str, object]:
    """What the server answers a client asking for a component file (its distribution)."""
    config = json.loads((client_dir / "client.json").read_text("utf-8"))
    response = httpx.get(
        f"{stack.server_url}/api/v1/agent/files/virus_pattern/{'0' * 64}",
        headers={"Authorization": f"Bearer {config['client_token']}", "Accept-Language": "en"},
    )
    assert response.status_code == 403, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.fixture(scope="module")
def client_dir(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("truth-client") / "client"
    installed = cssec("client", "install", "--server", stack.server_url, "--dir", str(target))
    assert installed.returncode == 0, installed.stderr
    return target


@pytest.fixture(scope="module")
def impostor(stack: Stack) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.attacker", "--upstream", stack.vendor_url,
         "--port", str(port), "--mode", "impersonate_status"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_reproduction_1_a_self_made_code_cannot_undo_a_revocation(
    stack: Stack, client_dir: Path, impostor: str
) -> None:
    data = ("--data", str(stack.server_dir))
    away = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the vendor is away
    code = stack.contract.codes["CS"]

    # The vendor revokes the server's C/S Sec. code; the check makes the slot 失効.
    with stack.vendor.session() as session:
        revoke_code(session, code, actor="test", reason="不正利用")
    checked = cssec("server", "license", "check-online", *data)
    assert checked.returncode != 0
    assert slot(stack)["status"] == "revoked"
    assert "revoked" in checked.stderr  # says what happened, not "could not check"
    assert events(stack, "license.revoked") == 1

    # Vendor unreachable, then impersonated: a self-made code is refused, nothing changes.
    for where, label, lang, words in (
        (
            away,
            "unreachable",
            "ja_JP.UTF-8",
            "ライセンスサーバで確認できたときにだけ有効になります",
        ),
        (impostor, "impersonated", "en_US.UTF-8", "takes effect only once the license server"),
    ):
        refused = cssec(
            "server", "license", "activate", self_made_code(serial=7), "--confirm", *data,
            lang=lang, vendor_url=where,
        )  # fmt: skip
        assert refused.returncode != 0, (label, refused.stdout)
        assert "vendor_confirmation_required" in refused.stderr, (label, refused.stderr)
        assert words in refused.stderr, (label, refused.stderr)
        after = slot(stack)
        assert (after["status"], after["activation_code"]) == ("revoked", code), label
        assert "2099" not in json.dumps(after)
    update = client_update(client_dir)
    assert update.returncode != 0
    assert "license_revoked" in update.stderr

    # The vendor is back: the self-made code is answered with a signed "invalid" and refused.
    forged = self_made_code(serial=8)
    refused = cssec("server", "license", "activate", forged, "--confirm", *data)
    assert refused.returncode != 0
    assert "invalid_activation_code" in refused.stderr
    assert slot(stack)["status"] == "revoked"


def test_reproduction_1_a_self_made_code_entered_offline_is_rejected_by_the_vendor(
    stack: Stack, client_dir: Path
) -> None:
    """On a slot holding no signed refusal the FAQ's offline behaviour stays (structure and
    check character, 'not yet confirmed'), until the vendor signs that the code is not its
    own: then the slot is 無効 (rejected), one event, and clients' updates are refused."""
    data = ("--data", str(stack.server_dir))
    # Start from a slot without a refusal: the DCS slot, never revoked, gets a self-made code.
    dcs = encode_activation_code(
        product=Product.DCS, seats=65535, expires_on=date(2099, 12, 31), serial=9,
        key=MacKey(1, secrets.token_bytes(32)),
    ).formatted  # fmt: skip
    away = f"http://127.0.0.1:{free_port()}"
    accepted = cssec(
        "server", "license", "activate", dcs, "--confirm", *data, vendor_url=away,
        lang="ja_JP.UTF-8",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    assert "ライセンスサーバでまだ確認されていません" in accepted.stdout
    row = slot(stack, "DCS")
    assert (row["status"], row["stopped"]) == ("unconfirmed", [])

    # The vendor is back: its signed "invalid" puts the slot in rejected, once.
    checked = cssec("server", "license", "check-online", *data)
    assert checked.returncode != 0
    assert "never issued" in checked.stderr
    row = slot(stack, "DCS")
    assert row["status"] == "rejected"
    assert row["stopped"] == ["distribute_damage_cleanup_template"]
    again = httpx.post(f"{stack.server_url}/api/v1/licenses/check-online", auth=("admin", PASSWORD))
    assert again.status_code >= 400
    assert events(stack, "license.rejected") == 1
    # An unsigned refusal (a machine that only says "invalid") would have changed nothing:
    # tests/server/licensing/test_signed_refusals covers that without processes.


def test_reproduction_5_a_revoked_licenses_refusals_name_the_revocation(
    stack: Stack, client_dir: Path
) -> None:
    assert slot(stack)["status"] == "revoked"  # left so by reproduction 1
    update = client_update(client_dir, lang="ja_JP.UTF-8")
    assert update.returncode != 0
    assert "license_revoked" in update.stderr
    assert "license_expired" not in update.stderr
    assert "失効" in update.stderr
    for word in EXPIRY_WORDS:
        assert word not in update.stderr, (word, update.stderr)
    body = distribution_refusal(stack, client_dir)
    assert body["code"] == "license_revoked"
    message = str(body["message"])
    assert "revoked" in message
    assert "corporate support" in message
    for word in EXPIRY_WORDS:
        assert word not in message
    downloaded = cssec("server", "components", "update", "--data", str(stack.server_dir))
    assert downloaded.returncode != 0
    assert "license_revoked" in downloaded.stderr
