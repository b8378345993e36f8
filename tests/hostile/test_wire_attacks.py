"""Attacks from the network between the parts, each a real process on loopback in the
middle of real vendor, server and client processes; each refused with the license and the
components unchanged.

- re-signing proxy (client ↔ server): a manifest naming a virus pattern that matches every
  file, signed with the attacker's key, and the attacker's key offered as the server's;
- key-swapping fake vendor (server ↔ vendor): its own key set and statements signed with it,
  at online install and at an offline server's first contact;
- replaying proxy (server ↔ vendor): a status statement captured before a revocation,
  answered again afterwards.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.helpers.e2e_server import (
    PASSWORD,
    REPO,
    Stack,
    free_port,
    running_stack,
    vendor_fingerprint,
)

from cssec.vendor_service.services import issue_contract, revoke_code

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Plain HTTP (--insecure-http): these attackers rewrite HTTP; TLS has test_tls_attacks.
    with running_stack(tmp_path_factory.mktemp("wire"), tls=False) as running:
        yield running


def cssec(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@contextmanager
def attacker(upstream: str, mode: str) -> Iterator[str]:
    """`tests.helpers.attacker` as its own process in front of `upstream`; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.attacker", "--upstream", upstream,
         "--port", str(port), "--mode", mode],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(b"listening"), line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _licenses(stack: Stack) -> list[dict[str, object]]:
    response = httpx.get(f"{stack.server_url}/api/v1/licenses", auth=("admin", PASSWORD))
    response.raise_for_status()
    body: list[dict[str, object]] = response.json()
    return body


def _route_through(client_dir: Path, url: str) -> None:
    """The attacker takes over the route to the server (ARP or DNS spoofing): the client's
    calls now reach `url`. Its own data, token and pinned keys stay as they were."""
    config = client_dir / "client.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["server_url"] = url
    config.write_text(json.dumps(data), encoding="utf-8")


def test_a_client_refuses_a_manifest_re_signed_in_the_middle(stack: Stack, tmp_path: Path) -> None:
    harmless = tmp_path / "notes.txt"
    harmless.write_text("議事録: 来週の打ち合わせは火曜日です。\n", encoding="utf-8")
    with attacker(stack.server_url, "resign_manifest") as middle:
        # Installed through the attacker: the first component fetch is refused already.
        through = tmp_path / "client-through"
        installed = cssec("client", "install", "--server", middle, "--dir", str(through))
        assert installed.returncode != 0
        assert "unknown_kid" in installed.stderr
        # Installed directly, then the attacker sits in the middle.
        client_dir = tmp_path / "client"
        installed = cssec(
            "client", "install", "--server", stack.server_url, "--dir", str(client_dir)
        )
        assert installed.returncode == 0, installed.stderr
        _route_through(client_dir, middle)
        for lang, words in (
            ("ja_JP.UTF-8", "マニフェスト)の検証に失敗"),
            ("en_US.UTF-8", "The update manifest failed verification"),
        ):
            update = cssec("client", "update", "--dir", str(client_dir), lang=lang)
            assert update.returncode != 0, update.stdout
            assert words in update.stderr, update.stderr
            assert "unknown_kid" in update.stderr
        # Nothing was installed: the harmless file is not "found", and stays where it was.
        for dir_ in (through, client_dir):
            scan = cssec("client", "scan", str(harmless), "--dir", str(dir_))
            assert "FOUND" not in scan.stdout
        assert scan.returncode == 0, scan.stdout + scan.stderr
        assert harmless.exists()
        status = cssec("client", "status", "--dir", str(client_dir), "--json")
        assert json.loads(status.stdout)["components"]["virus_pattern"]["version"] == 1
    pinned = json.loads((client_dir / "client.json").read_text())["vendor_keys"]["keys"]
    server_keys = json.loads((stack.server_dir / "vendor-keys.json").read_text())["keys"]
    assert {key["kid"] for key in pinned} <= {key["kid"] for key in server_keys}


def _install(
    stack: Stack, target: Path, vendor_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return cssec(
        "server", "install", "--data", str(target), "--vendor-url", vendor_url,
        "--admin-password-file", str(stack.root / "admin.pw"), *args,
    )  # fmt: skip


def test_online_install_refuses_a_vendor_whose_keys_do_not_match(
    stack: Stack, tmp_path: Path
) -> None:
    target = tmp_path / "server"
    with attacker(stack.vendor_url, "swap_keys") as fake_vendor:
        refused = _install(
            stack, target, fake_vendor, "--activation-code", stack.contract.codes["CS"],
            "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor),
        )  # fmt: skip
    assert refused.returncode != 0
    assert "untrusted_vendor_key" in refused.stderr
    assert "2099" not in refused.stdout + refused.stderr
    assert not target.exists()


def test_install_with_no_trusted_key_is_refused_not_pinned_on_first_use(
    stack: Stack, tmp_path: Path
) -> None:
    for offline in ([], ["--offline"]):
        target = tmp_path / f"server{len(offline)}"
        refused = _install(
            stack, target, stack.vendor_url, "--activation-code", stack.contract.codes["CS"],
            *offline,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "vendor_key_required" in refused.stderr
        assert "--vendor-key-fingerprint" in refused.stderr
        assert not target.exists()


def test_an_offline_server_pins_only_the_fingerprinted_key_at_first_contact(
    stack: Stack, tmp_path: Path
) -> None:
    target = tmp_path / "offline"
    with attacker(stack.vendor_url, "swap_keys") as fake_vendor:
        installed = _install(
            stack, target, fake_vendor, "--offline",
            "--activation-code", stack.contract.codes["CS"],
            "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor),
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
        before = cssec("server", "license", "show", "--data", str(target), "--json").stdout
        checked = cssec("server", "license", "check-online", "--data", str(target))
        assert checked.returncode != 0
        assert "untrusted_vendor_key" in checked.stdout + checked.stderr
        after = cssec("server", "license", "show", "--data", str(target), "--json").stdout
    assert after == before
    assert "2099" not in after
    keys_file = target / "vendor-keys.json"
    assert '"keys": []' in keys_file.read_text()


def _fresh_code(stack: Stack) -> str:
    with stack.vendor.session() as session:
        contract = issue_contract(session, customer="株式会社リプレイ", seats=5, actor="test")
    return contract.codes["CS"]


def _revoke(stack: Stack, code: str) -> None:
    with stack.vendor.session() as session:
        revoke_code(session, code, actor="test", reason="不正利用")


def _shown(target: Path) -> list[dict[str, object]]:
    shown = cssec("server", "license", "show", "--data", str(target), "--json")
    assert shown.returncode == 0, shown.stderr
    slots: list[dict[str, object]] = json.loads(shown.stdout)
    return slots


def test_a_statement_captured_before_a_revocation_is_refused_when_replayed(
    stack: Stack, tmp_path: Path
) -> None:
    code = _fresh_code(stack)
    target = tmp_path / "replayed"
    with attacker(stack.vendor_url, "replay_status") as middle:
        installed = _install(
            stack, target, middle, "--activation-code", code,
            "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor),
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr  # the capture is made here
        before = _shown(target)
        _revoke(stack, code)
        checked = cssec("server", "license", "check-online", "--data", str(target))
    assert checked.returncode != 0
    assert "nonce_mismatch" in checked.stdout + checked.stderr
    assert _shown(target) == before
    with sqlite3.connect(target / "server.db") as db:
        kinds = [kind for (kind,) in db.execute("SELECT kind FROM system_events")]
    assert "license.check_succeeded" not in kinds
    assert "license.check_failed" in kinds


def test_a_revocation_reaches_an_installed_server(stack: Stack, tmp_path: Path) -> None:
    code = _fresh_code(stack)
    target = tmp_path / "revoked"
    installed = _install(
        stack, target, stack.vendor_url, "--activation-code", code,
        "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    _revoke(stack, code)
    checked = cssec("server", "license", "check-online", "--data", str(target))
    assert checked.returncode != 0
    assert "revoked_activation_code" in checked.stdout + checked.stderr
    [slot] = [s for s in _shown(target) if s["product"] == "CS"]
    assert slot["status"] == "revoked"
    ja = cssec("server", "license", "show", "--data", str(target), lang="ja_JP.UTF-8")
    assert "失効" in ja.stdout
