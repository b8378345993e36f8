"""Issue 21, reproduction 2: revoking a replacement left its predecessor live.

`cssec vendor code reissue OLD` → NEW, `cssec vendor code revoke NEW`: OLD must then be
revoked everywhere the vendor answers for a code — the signed status answer, `code
inspect`, ActiveUpdate, TUF metadata and the air-gapped bundle — while revoking OLD alone
leaves NEW live. Driven through the operator's CLI and the vendor's HTTP app on one data
directory (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.core.codes import normalize
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root
from cssec.vendor_service.app import create_app
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.settings import VendorSettings

SERVER = "srv-lineage"
ENTITLEMENT_TTL = 60  # VendorSettings.activeupdate_entitlement_ttl's default
runner = CliRunner()
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(settings: VendorSettings, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, [*args, "--data", str(settings.data_dir)])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def web(settings: VendorSettings, clock: FakeClock, cli: Cli) -> Iterator[FastAPI]:
    cli("keys", "public")  # the CLI creates the keys and the schema first, as an operator would
    application = create_app(settings, clock=clock)
    try:
        yield application
    finally:
        application.state.vendor.close()


def _contract(cli: Cli) -> str:
    _, out, _ = cli("contract", "new", "--customer", "株式会社系譜", "--seats", "5",
                    "--start", "2026-11-01")  # fmt: skip
    return next(
        line.split(": ")[1] for line in out.splitlines() if line.startswith("activation code CS")
    )


def _status(client: TestClient, code: str) -> tuple[int, dict[str, Any], str]:
    nonce = secrets.token_hex(16)
    response = client.post(
        "/api/v1/status", json={"activation_code": code, "server_id": SERVER, "nonce": nonce}
    )
    return response.status_code, response.json(), nonce


def _signed(body: dict[str, Any]) -> dict[str, Any]:
    """The signed envelope a response carries (a statement, or a refusal's statement)."""
    if "signature" in body:
        return body
    found = [v for v in body.values() if isinstance(v, dict) and "signature" in v]
    assert len(found) == 1, body
    return found[0]


def _keys(client: TestClient) -> dict[str, VerifyingKey]:
    return {k["kid"]: VerifyingKey.from_jwk(k) for k in client.get("/api/v1/keys").json()["keys"]}


def _activeupdate(client: TestClient, code: str) -> Any:
    return client.post(
        "/api/v1/activeupdate/manifest", json={"activation_code": code, "server_id": SERVER}
    )


def _tuf(client: TestClient, code: str) -> Any:
    headers = {"X-Cssec-Activation-Code": code, "X-Cssec-Server-Id": SERVER}
    return client.get("/api/v1/tuf/timestamp.json", headers=headers)


def _install_tuf_root(web: FastAPI, tmp_path: Path) -> None:
    init_root_keys(tmp_path / "root-keys", threshold=1, count=1)
    vendor: Vendor = web.state.vendor
    with vendor.session() as session:
        install_root(session, load_root_keys(tmp_path / "root-keys"))


def test_revoking_the_replacement_revokes_its_predecessor_everywhere(
    cli: Cli, web: FastAPI, clock: FakeClock, tmp_path: Path
) -> None:
    client = TestClient(web, raise_server_exceptions=False)
    _install_tuf_root(web, tmp_path)
    old = _contract(cli)
    _, out, _ = cli("code", "reissue", old)
    new = out.strip().splitlines()[-1]
    assert new != old
    # Before: OLD works everywhere (and ActiveUpdate caches that for its TTL).
    assert _status(client, old)[0] == 200
    assert _activeupdate(client, old).status_code == 200
    assert _tuf(client, old).status_code == 200

    rc, out, _ = cli("code", "revoke", new, "--reason", "契約解除")
    listed = out.strip().splitlines()
    assert listed[0] == "この失効の対象 (2 件、古い順):"
    assert old in listed[1]
    assert "有効 → 失効" in listed[1]
    assert new in listed[2]
    assert "指定のコード" in listed[2]
    assert listed[-1] == f"失効させました: {new}"
    clock.advance(timedelta(seconds=ENTITLEMENT_TTL))

    # POST /api/v1/status: a signed "revoked" statement for OLD, bound to the nonce.
    status, body, nonce = _status(client, old)
    assert (status, body["code"]) == (403, "revoked_activation_code")
    envelope = _signed(body)
    assert verify_statement(envelope, _keys(client)).ok
    statement = envelope["statement"]
    assert statement["state"] == "revoked"
    assert statement["nonce"] == nonce
    assert normalize(statement["activation_code"]) == normalize(old)

    # code inspect OLD: revoked, covered by NEW's revocation.
    rc, out, _ = cli("code", "inspect", old, ok=False)
    assert rc == 1
    assert re.search(r"^判定: +失効$", out, re.MULTILINE), out
    assert re.search(rf"^まとめて失効させたコード: +{new}$", out, re.MULTILINE), out
    assert re.search(rf"^後継のコード: +{new} \(失効済み\)$", out, re.MULTILINE), out
    assert f"新しいコード {new}の失効に含まれます" in out
    assert "契約解除" in out

    # ActiveUpdate, TUF metadata and the bundle refuse OLD as revoked.
    refused = _activeupdate(client, old)
    assert (refused.status_code, refused.json()["code"]) == (403, "revoked_activation_code")
    refused = _tuf(client, old)
    assert (refused.status_code, refused.json()["code"]) == (403, "revoked_activation_code")
    rc, _, err = cli(
        "component", "bundle", "--code", old, "--out", str(tmp_path / "b.tar"), ok=False
    )
    assert rc == 1
    assert "revoked_activation_code" in err
    assert not (tmp_path / "b.tar").exists()


def test_revoking_the_old_code_leaves_the_new_one_live(
    cli: Cli, web: FastAPI, clock: FakeClock, tmp_path: Path
) -> None:
    client = TestClient(web, raise_server_exceptions=False)
    _install_tuf_root(web, tmp_path)
    old = _contract(cli)
    new = cli("code", "reissue", old)[1].strip().splitlines()[-1]
    _, out, _ = cli("--lang", "en", "code", "revoke", old, "--reason", "leaked")
    listed = out.strip().splitlines()
    assert listed[0] == "This revocation covers (1, oldest first):"
    assert old in listed[1]
    assert new not in out.replace(f"revoked: {new}", "")
    assert _status(client, new)[0] == 200
    assert _activeupdate(client, new).status_code == 200
    assert _tuf(client, new).status_code == 200
    assert cli("component", "bundle", "--code", new, "--out", str(tmp_path / "b.tar"))[0] == 0
    rc, out, _ = cli("--lang", "en", "code", "inspect", old, ok=False)
    assert rc == 1
    assert f"superseded_by:  {new} (not revoked)" in out
    assert "covered_by" not in out
    assert cli("code", "inspect", new)[0] == 0
