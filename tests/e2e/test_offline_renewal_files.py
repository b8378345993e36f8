"""Air-gapped renewal by file, as operators run it: every step a real `cssec` process, and
the server's vendor URL a loopback port nobody listens on (no route to the vendor)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from tests.helpers.processes import cssec_env, run_cssec

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # released: connecting to it is refused


def _ok(*args: str, env: dict[str, str]) -> str:
    result = run_cssec(*args, env=env)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def _expiry(server: Path, env: dict[str, str]) -> str:
    shown = json.loads(_ok("server", "license", "show", "--data", str(server), "--json", env=env))
    expiry: str = shown[0]["expires_on"]
    return expiry


def test_request_respond_import_with_no_route_to_the_vendor(tmp_path: Path) -> None:
    env = cssec_env(LANG="en_US.UTF-8", CSSEC_SERVER_TIMEZONE="Asia/Tokyo")
    vendor, server = tmp_path / "vendor", tmp_path / "server"
    out = _ok("vendor", "contract", "new", "--customer", "Air Gap KK", "--seats", "5",
              "--data", str(vendor), env=env)  # fmt: skip
    key = out.strip().splitlines()[-1]
    code = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("activation"))
    fingerprint = _ok("vendor", "keys", "public", "--fingerprint", "--data", str(vendor), env=env)
    password = tmp_path / "admin.pw"
    password.write_text("e2e-admin-password\n")
    _ok("server", "install", "--data", str(server),
        "--vendor-url", f"http://127.0.0.1:{_closed_port()}", "--activation-code", code,
        "--offline", "--admin-password-file", str(password),
        "--vendor-key-fingerprint", fingerprint.strip().splitlines()[-1], env=env)  # fmt: skip
    before = _expiry(server, env)
    renewed = _ok("vendor", "contract", "renew", key, "--months", "12", "--data", str(vendor),
                  env=env)  # fmt: skip
    assert before in renewed

    online = run_cssec("server", "license", "check-online", "--data", str(server), env=env)
    assert online.returncode == 1
    assert "vendor_unreachable" in online.stderr, "the vendor really is out of reach"
    assert _expiry(server, env) == before

    request, response = tmp_path / "REQ.json", tmp_path / "RESP.json"
    _ok("server", "license", "request", "--data", str(server), "--out", str(request), env=env)
    _ok("vendor", "license", "respond", str(request), "--out", str(response),
        "--data", str(vendor), env=env)  # fmt: skip
    imported = _ok("server", "license", "import", str(response), "--data", str(server), env=env)
    after = _expiry(server, env)
    assert after > before
    assert after in imported
    assert after in renewed

    again = _ok("server", "license", "import", str(response), "--data", str(server), env=env)
    assert "already imported" in again
    assert _expiry(server, env) == after

    # A second round over the same file names: replacing them is asked for with --force.
    _ok("server", "license", "request", "--data", str(server), "--out", str(request),
        "--force", env=env)  # fmt: skip
    _ok("vendor", "license", "respond", str(request), "--out", str(response),
        "--data", str(vendor), "--force", env=env)  # fmt: skip
    tampered = json.loads(response.read_text())
    tampered["statements"][0]["statement"]["contract_end"] = "2099-12-31"
    forged = tmp_path / "FORGED.json"
    forged.write_text(json.dumps(tampered))
    refused = run_cssec("server", "license", "import", str(forged), "--data", str(server), env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: invalid_license_response:"), refused.stderr
    assert _expiry(server, env) == after
