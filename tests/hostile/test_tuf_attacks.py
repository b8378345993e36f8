"""Attacks on ActiveUpdate over TUF, each a real process in the middle (`tests.helpers.
attacker`, tuf_* modes) between a real vendor process and a server driven by the real CLI:
rollback, mix-and-match, endless data, arbitrary software. Each is refused with a clear
cause and the components unchanged; when the attacker leaves, the next update succeeds.
(A freeze needs time to pass beyond the timestamp's expiry: it is tested with the injected
clock in tests/server/updates/test_tuf_updates.py, against the same TufTampering.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.helpers.e2e_server import REPO, Stack, free_port, running_stack, vendor_fingerprint
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import SEED

from cssec.vendor_service.activeupdate import publish_component
from cssec.vendor_service.services import issue_contract

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("tuf-wire")
    with running_stack(root, tls=False) as running:
        install_tuf_root(running.vendor, root / "offline-root-keys")
        yield running


def cssec(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": "en_US.UTF-8", "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@contextmanager
def attacker(upstream: str, mode: str, arm: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.attacker", "--upstream", upstream,
         "--port", str(port), "--mode", mode, "--arm-file", str(arm)],
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


def _versions(target: Path) -> dict[str, int]:
    shown = cssec("server", "components", "show", "--data", str(target), "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    # A C/S Sec.-only site holds no Damage Cleanup template (its row has no current version).
    return {
        row["component"]: row["current"]["version"]
        for row in body["components"]
        if row["current"] is not None
    }


@pytest.mark.parametrize(
    ("mode", "cause", "words"),
    [
        ("rollback", "rolled_back_metadata", "a rollback or mix-and-match attack"),
        ("mix_and_match", "rolled_back_metadata", "a rollback or mix-and-match attack"),
        ("endless_data", "oversize", "larger than the manifest says"),
        ("arbitrary_software", "hash_mismatch", "does not match the manifest's SHA-256"),
    ],
)
def test_an_attacker_in_the_middle_of_tuf_is_refused(
    stack: Stack, tmp_path: Path, mode: str, cause: str, words: str
) -> None:
    with stack.vendor.session() as session:
        code = issue_contract(session, customer="株式会社TUF", seats=5, actor="t").codes["CS"]
    target, arm = tmp_path / "server", tmp_path / "armed"
    with attacker(stack.vendor_url, f"tuf_{mode}", arm) as middle:
        installed = cssec(
            "server", "install", "--data", str(target), "--vendor-url", middle,
            "--admin-password-file", str(stack.root / "admin.pw"), "--activation-code", code,
            "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor),
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
        first = cssec("server", "components", "update", "--data", str(target))
        assert first.returncode == 0, first.stderr  # the TUF root is trusted here, recorded
        assert (target / "tuf" / "root.json").exists()
        publish_next_virus_pattern(stack, mode)
        if mode == "rollback":
            moved = cssec("server", "components", "update", "--data", str(target))
            assert moved.returncode == 0, moved.stderr
        before = _versions(target)
        arm.touch()
        refused = cssec("server", "components", "update", "--data", str(target))
        assert refused.returncode != 0, refused.stdout
        assert cause in refused.stderr or words in refused.stderr, refused.stderr
        assert "The current components stay in use" in refused.stderr
        assert _versions(target) == before
        arm.unlink()
        healed = cssec("server", "components", "update", "--data", str(target))
        assert healed.returncode == 0, healed.stderr
    assert _versions(target)["virus_pattern"] > before["virus_pattern"] or mode == "rollback"


def publish_next_virus_pattern(stack: Stack, name: str) -> None:
    data = (SEED / "virus_pattern.yar").read_bytes() + (
        f'\nrule Cssec_Tuf_{name} {{ strings: $m = "CSSEC-TUF-{name}" condition: $m }}\n'
    ).encode()
    with stack.vendor.session() as session:
        publish_component(session, "virus_pattern", data, actor="test")
