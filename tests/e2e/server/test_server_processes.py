"""The server as an operator runs it: installed by the CLI, served by `serve`, and driven
over real HTTP while the CLI works on the same data directory."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest
from tests.helpers.e2e_server import PASSWORD, SERVER_CLI, Stack, server_env, vendor_fingerprint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _licenses(stack: Stack, lang: str = "ja") -> list[dict[str, str]]:
    response = httpx.get(
        f"{stack.server_url}/api/v1/licenses",
        auth=("admin", PASSWORD),
        headers={"Accept-Language": lang},
        timeout=10,
        verify=stack.verify,
    )
    response.raise_for_status()
    body: list[dict[str, str]] = response.json()
    return body


def test_installed_by_registration_key(stack: Stack) -> None:
    licenses = _licenses(stack)
    assert [(s["product"], s["status"]) for s in licenses] == [
        ("CS", "activated"),
        ("DCS", "activated"),
    ]
    assert licenses[0]["activation_code"] == stack.contract.codes["CS"]
    assert licenses[0]["expires_on"] == stack.contract.end.isoformat()
    unauthenticated = httpx.get(
        f"{stack.server_url}/api/v1/licenses", timeout=10, verify=stack.verify
    )
    assert unauthenticated.status_code == 401


def test_cli_check_online_while_serving(stack: Stack) -> None:
    stack.renew()
    errors: list[BaseException] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                _licenses(stack)
            except (httpx.HTTPError, AssertionError) as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        cli = subprocess.run(
            [*SERVER_CLI, "license", "check-online", "--data", str(stack.server_dir)],
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=120,
            check=False,
        )
    finally:
        stop.set()
        thread.join()
    assert cli.returncode == 0, cli.stderr
    assert errors == []
    # The running server shows the new expiry at once: no restart.
    expiry = _licenses(stack)[0]["expires_on"]
    assert expiry > stack.contract.end.isoformat()
    assert expiry in cli.stdout


def test_already_installed_is_refused(stack: Stack) -> None:
    result = subprocess.run(
        [*SERVER_CLI, "install", "--data", str(stack.server_dir), "--vendor-url",
         stack.vendor_url, "--activation-code", stack.contract.codes["CS"],
         "--admin-password-file", str(stack.root / "admin.pw"),
         "--vendor-key-fingerprint", vendor_fingerprint(stack.vendor)],
        capture_output=True, text=True, env=server_env(), timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: already_installed:")
    assert sys.executable
