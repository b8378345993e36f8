"""`cssec vendor …` as an operator runs it: output, exit codes, one-line refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.core.codes import parse_activation_code, parse_registration_key
from cssec.vendor_service.cli import app

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # Japanese is the default
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    data = str(tmp_path / "vendor")

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--data", data])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.exit_code, result.stdout, result.stderr

    return run


def test_contract_new_prints_codes_then_the_key_last(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli("contract", "new", "--customer", "デモ商事", "--seats", "25",
                    "--start", "2026-12-01", "--with-dcs")  # fmt: skip
    lines = out.strip().splitlines()
    assert parse_registration_key(lines[-1]).ok
    codes = [line.split(": ")[1] for line in lines if line.startswith("activation code")]
    assert [parse_activation_code(c).value.product.value for c in codes] == ["CS", "DCS"]  # type: ignore[union-attr]
    assert "2026-12-01 .. 2027-11-30" in out


def test_renew_reissue_revoke_inspect(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli("contract", "new", "--customer", "X", "--seats", "5", "--start", "2026-01-01")
    key = out.strip().splitlines()[-1]
    _, out, _ = cli("contract", "renew", key, "--months", "12")
    assert "2026-12-31 -> 2027-12-31" in out
    _, out, _ = cli("code", "reissue", key)
    code = out.strip().splitlines()[-1]
    parsed = parse_activation_code(code).value
    assert parsed is not None
    assert str(parsed.expires_on) == "2027-12-31"
    _, out, _ = cli("code", "inspect", code)
    assert "verdict:        valid" in out
    assert "contract_end:   2027-12-31" in out
    cli("code", "revoke", code, "--reason", "leaked")
    rc, out, _ = cli("code", "inspect", code, ok=False)
    assert rc == 1
    assert "verdict:        revoked" in out
    assert "leaked" in out
    rc, out, _ = cli("code", "inspect", code[:-1] + ("0" if code[-1] != "0" else "1"), ok=False)
    assert rc == 1
    assert "verdict:        invalid" in out
    assert "check_failed" in out
    where = len(code)
    assert f"{where}文字目の" in out or f"character {where}," in out, "the one typo, and where"


def test_reissue_undoes_a_revocation_only_when_told(cli) -> None:  # type: ignore[no-untyped-def]
    """The console asks an admin to tick a box; the command line asks for --lift-revocation,
    and says so in one line instead of silently putting a revoked product back in service."""
    _, out, _ = cli("contract", "new", "--customer", "X", "--seats", "5")
    key = out.strip().splitlines()[-1]
    code = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("activation"))
    cli("code", "revoke", code, "--reason", "leaked")
    rc, out, err = cli("code", "reissue", key, "--product", "CS", ok=False)
    assert (rc, out) == (1, "")
    assert err.strip().splitlines() == [
        "error: revocation_needs_admin: The newest C/S Sec. activation code of this contract "
        "was revoked. A new code would undo the revocation; to undo it, run the command again "
        "with --lift-revocation."
    ]
    rc, _, err = cli("--lang", "ja", "code", "reissue", key, "--product", "CS", ok=False)
    assert "製品「C/S Sec.」の最新のアクティベーションコードは失効処理されています" in err
    _, out, _ = cli("code", "reissue", key, "--product", "CS", "--lift-revocation")
    new = out.strip().splitlines()[-1]
    assert parse_activation_code(new).ok
    rc, out, _ = cli("code", "inspect", new)
    assert "verdict:        valid" in out


def test_refusals_are_one_line_on_stderr(cli) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = cli("contract", "new", "--customer", "X", "--seats", "0", ok=False)
    assert rc == 1
    assert out == ""
    assert err.strip() == (
        "error: invalid_contract_terms: The contract terms are not valid: seats must be 1 to 65535"
    )
    rc, _, err = cli("code", "reissue", "CS-0000", ok=False)
    assert rc == 1
    assert len(err.strip().splitlines()) == 1
    rc, _, err = cli("code", "revoke", "22-0000-0000-0000-0000", ok=False)
    assert rc == 1
    assert "activation code" in err


def test_keys_public_and_rotate(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli("keys", "public")
    first = json.loads(out)["keys"]
    assert len(first) == 1
    assert first[0]["kty"] == "OKP"
    assert "d" not in first[0]
    _, out, _ = cli("keys", "rotate")
    assert "hmac kid: 2" in out
    _, out, _ = cli("keys", "public")
    keys = json.loads(out)["keys"]
    assert len(keys) == 2
    assert keys[1]["kid"] == first[0]["kid"]


def test_user_add(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    password = tmp_path / "pw"
    password.write_text("correct horse battery\n")
    _, out, _ = cli("user", "add", "alice", "--password-file", str(password), "--role", "admin")
    assert out.strip() == "user: alice (admin)"
    rc, _, err = cli("user", "add", "alice", "--password-file", str(password), ok=False)
    assert rc == 1
    assert "already exists" in err


def test_japanese_locale(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    rc, _, err = cli("contract", "new", "--customer", "X", "--seats", "0", ok=False)
    assert rc == 1
    assert "ライセンス数" in err


@pytest.mark.e2e
def test_serve_with_two_workers_answers_a_status_check(tmp_path: Path) -> None:
    """`cssec vendor serve --workers 2`: migrated once, then two worker processes on one port,
    each answering the API with the same keys."""
    import socket  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    import httpx  # noqa: PLC0415
    import psutil  # noqa: PLC0415

    data = tmp_path / "vendor"
    cssec = [sys.executable, "-m", "cssec", "vendor"]
    issued = subprocess.run(
        [*cssec, "contract", "new", "--customer", "ACME", "--seats", "5", "--data", str(data)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = issued.stdout.splitlines()
    code = next(line.split()[-1] for line in lines if line.startswith("activation code CS"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [*cssec, "serve", "--data", str(data), "--port", str(port), "--workers", "2"],
        env={**os.environ, "CSSEC_VENDOR_STATUS_RATE_LIMIT": "1000/minute"},
    )
    try:
        deadline = time.monotonic() + 90
        while len(psutil.Process(proc.pid).children(recursive=True)) < 2 or not _answers(port):
            assert proc.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve did not start two workers"
            time.sleep(0.2)  # waiting for real processes, not faking time
        keys = httpx.get(f"http://127.0.0.1:{port}/api/v1/keys").json()["keys"]
        for _ in range(4):
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/status",
                json={"activation_code": code, "server_id": "srv-1"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["kid"] in {k["kid"] for k in keys}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(port: int) -> bool:
    import httpx  # noqa: PLC0415

    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
