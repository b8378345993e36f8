"""HTTPS with pinning, attacked from the network: real vendor, server and client processes
on loopback and a TLS machine in the middle (`tests.helpers.tls_mitm`, its own process)
presenting its own certificate for the server's address.

- the middle is refused by `client update` and by `client install` with the right
  fingerprint (by --fingerprint, and by a Web manager token, which is never sent and still
  works against the real server afterwards); components and pins unchanged;
- a client follows `cssec server cert renew` (the old key signs the renewal) and refuses a
  "renewal" to the attacker's certificate signed with any other key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.helpers.e2e_server import PASSWORD, REPO, Stack, free_port, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("tls")) as running:
        yield running


def cssec(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@contextmanager
def middle(stack: Stack, record: Path, *, forge: bool = False) -> Iterator[tuple[str, str]]:
    """The TLS machine in the middle in front of the server: (its URL, its fingerprint)."""
    port = free_port()
    command = [sys.executable, "-m", "tests.helpers.tls_mitm", "--upstream", stack.server_url,
               "--port", str(port), "--record", str(record)]  # fmt: skip
    proc = subprocess.Popen(
        [*command, *(["--forge-renewal"] if forge else [])],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("listening sha256:"), line
        yield f"https://127.0.0.1:{port}", line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _route_through(client_dir: Path, url: str) -> None:
    """The attacker takes over the route to the server: the client's calls reach `url`.
    Its token and pinned certificate stay as they were."""
    config = client_dir / "client.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["server_url"] = url
    config.write_text(json.dumps(data), encoding="utf-8")


def _pinned(client_dir: Path) -> str:
    return str(json.loads((client_dir / "client.json").read_text())["server_cert"])


def _versions(client_dir: Path) -> dict[str, object]:
    status = cssec("client", "status", "--dir", str(client_dir), "--json")
    assert status.returncode == 0, status.stderr
    components: dict[str, object] = json.loads(status.stdout)["components"]
    return components


def _web_token(stack: Stack) -> str:
    with httpx.Client(base_url=stack.server_url, verify=stack.verify, timeout=30) as web:
        page = web.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        logged_in = web.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        assert logged_in.status_code == 303, logged_in.text
        page = web.get("/clients/install/web")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        issued = web.post("/clients/install/web", data={"csrf_token": csrf.group(1)})
    assert stack.fingerprint in issued.text  # shown next to the command
    command = re.search(r'data-testid="install-command">([^<]+)</pre>', issued.text)
    assert command, issued.text
    token = re.search(r"--token (\S+)", command.group(1))
    assert token
    return token.group(1)


def test_a_machine_in_the_middle_is_refused_before_anything_is_sent(
    stack: Stack, tmp_path: Path
) -> None:
    client_dir = tmp_path / "client"
    installed = cssec(
        "client", "install", "--server", stack.server_url, "--fingerprint", stack.fingerprint,
        "--dir", str(client_dir),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    pinned, versions = _pinned(client_dir), _versions(client_dir)
    token = _web_token(stack)
    assert token.endswith(stack.fingerprint.removeprefix("sha256:"))
    record = tmp_path / "seen.txt"
    with middle(stack, record) as (url, evil):
        _route_through(client_dir, url)
        for lang, words in (
            ("ja_JP.UTF-8", "証明書が登録済みのものと一致しない"),
            ("en_US.UTF-8", "does not match the pinned one"),
        ):
            update = cssec("client", "update", "--dir", str(client_dir), lang=lang)
            assert update.returncode != 0, update.stdout
            assert words in update.stderr, update.stderr
            assert stack.fingerprint in update.stderr
            assert evil in update.stderr
        by_fingerprint = cssec(
            "client", "install", "--server", url, "--fingerprint", stack.fingerprint,
            "--dir", str(tmp_path / "new1"),
        )  # fmt: skip
        by_token = cssec(
            "client", "install", "--server", url, "--token", token, "--route", "web",
            "--dir", str(tmp_path / "new2"),
        )  # fmt: skip
        for refused in (by_fingerprint, by_token):
            assert refused.returncode != 0, refused.stdout
            assert "does not match the pinned one" in refused.stderr
            assert stack.fingerprint in refused.stderr
            assert evil in refused.stderr
    assert not (tmp_path / "new1" / "client.json").exists()
    assert not (tmp_path / "new2" / "client.json").exists()
    assert _pinned(client_dir) == pinned
    assert _versions(client_dir) == versions
    seen = record.read_text(errors="replace")
    # The middle saw only anonymous reads of the public renewals, never a secret.
    assert "authorization" not in seen.lower()
    assert token.split(".")[0] not in seen
    assert "/enroll" not in seen
    # The token was never sent: it still installs against the real server.
    direct = cssec(
        "client", "install", "--server", stack.server_url, "--token", token, "--route", "web",
        "--dir", str(tmp_path / "real"),
    )  # fmt: skip
    assert direct.returncode == 0, direct.stderr


def test_an_https_client_needs_a_fingerprint(stack: Stack, tmp_path: Path) -> None:
    for lang, words in (("ja_JP.UTF-8", "証明書の指紋が必要"), ("en_US.UTF-8", "fingerprint")):
        refused = cssec(
            "client", "install", "--server", stack.server_url, "--dir", str(tmp_path / lang),
            lang=lang,
        )  # fmt: skip
        assert refused.returncode != 0
        assert words in refused.stderr
        assert not (tmp_path / lang / "client.json").exists()


def test_a_client_follows_a_renewal_signed_by_the_old_key_only(
    stack: Stack, tmp_path: Path
) -> None:
    client_dir = tmp_path / "client"
    old = stack.fingerprint
    installed = cssec(
        "client", "install", "--server", stack.server_url, "--fingerprint", old,
        "--dir", str(client_dir),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    renewed = cssec("server", "cert", "renew", "--data", str(stack.server_dir))
    assert renewed.returncode == 0, renewed.stderr
    new = renewed.stdout.strip().splitlines()[-1]
    assert new.startswith("sha256:")
    assert new != old
    shown = cssec("server", "cert", "show", "--data", str(stack.server_dir))
    assert shown.stdout.strip().splitlines()[-1] == new
    stack.restart_server()
    assert stack.fingerprint == new

    update = cssec("client", "update", "--dir", str(client_dir))
    assert update.returncode == 0, update.stderr
    pinned = _pinned(client_dir)
    assert pinned.strip() == stack.certificate.decode().strip()

    # A "renewal" from the certificate the client pins now to the attacker's, signed with
    # the attacker's key, is refused.
    versions = _versions(client_dir)
    with middle(stack, tmp_path / "seen.txt", forge=True) as (url, evil):
        _route_through(client_dir, url)
        refused = cssec("client", "update", "--dir", str(client_dir))
    assert refused.returncode != 0
    assert new in refused.stderr
    assert evil in refused.stderr
    assert _pinned(client_dir) == pinned
    assert _versions(client_dir) == versions
    assert "/api/v1/agent/tls-renewals" in (tmp_path / "seen.txt").read_text()
