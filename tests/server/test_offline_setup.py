"""An offline site set up as the docs word it (issue 23, finding 1): install without a
vendor URL, a clear refusal where a step is missing, clients refused with the next step
named while the server holds no vendor key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.helpers.server import PASSWORD, Desk, ServerFactory, SwitchableTransport, vendor_trust
from typer.testing import CliRunner

from cssec.server import cli, cli_common
from cssec.server.licensing.install_request import VendorUrlRequired
from cssec.server.models import Client, ServerInfo

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, network: SwitchableTransport) -> None:
    monkeypatch.setattr(cli_common, "vendor_transport", lambda: network)
    monkeypatch.setenv("CSSEC_SERVER_TIMEZONE", "Asia/Tokyo")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "CSSEC_SERVER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def _files(tmp_path: Path, network: SwitchableTransport) -> tuple[Path, Path]:
    password = tmp_path / "admin.pw"
    password.write_text(PASSWORD + "\n")
    keys = tmp_path / "vendor-keys.json"
    keys.write_text(json.dumps(network.app.state.vendor.keyring.jwks()))
    return password, keys


def test_offline_install_needs_no_vendor_url(
    tmp_path: Path, desk: Desk, network: SwitchableTransport
) -> None:
    password, keys = _files(tmp_path, network)
    code = desk.contract(seats=5).codes["CS"]
    data = tmp_path / "srv"
    result = runner.invoke(
        cli.app,
        ["install", "--data", str(data), "--offline", "--activation-code", code,
         "--vendor-keys-file", str(keys), "--admin-password-file", str(password)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert code in result.stdout
    shown = runner.invoke(cli.app, ["license", "show", "--data", str(data), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)[0]["activation_code"] == code
    # No vendor to call: the offline server never tries (renewal by codes and files only).
    from cssec.server.storage.datadir import DataDir, open_database  # noqa: PLC0415

    engine, sessions = open_database(DataDir(data))
    try:
        with sessions() as session:
            info = session.scalars(select(ServerInfo)).one()
            assert (info.vendor_url, info.install_mode) == ("", "offline")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("lang", "words"), [("ja", "--vendor-url URLを指定"), ("en", "give --vendor-url URL")]
)
def test_online_install_without_vendor_url_names_both_ways(
    tmp_path: Path, desk: Desk, network: SwitchableTransport, lang: str, words: str
) -> None:
    password, keys = _files(tmp_path, network)
    key = desk.contract(seats=5).registration_key
    result = runner.invoke(
        cli.app,
        ["--lang", lang, "install", "--data", str(tmp_path / "srv"), "--registration-key", key,
         "--vendor-keys-file", str(keys), "--admin-password-file", str(password)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {VendorUrlRequired.code}: ")
    assert words in lines[0]
    assert "--offline" in lines[0]
    assert not (tmp_path / "srv").exists()


async def test_clients_wait_for_the_vendor_keys_of_an_offline_install_by_fingerprint(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    code = desk.contract(seats=5).codes["CS"]
    server = await servers.start(
        activation_code=code, offline=True, trust=vendor_trust(network.app.state.vendor)
    )
    body: dict[str, Any] = {"route": "autopcc", "hostname": "pc-01", "os": "Linux"}
    for lang, words in (("ja", "cssec server license import"), ("en", "license import")):
        response = await server.client.post(
            "/api/v1/agent/enroll", json=body, headers={"Accept-Language": lang}
        )
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "vendor_keys_not_pinned"
        assert words in response.json()["message"]
    with server.app.state.server.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Client)) == 0


async def test_clients_install_at_once_after_an_offline_install_by_key_file(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    from cssec.core.signing import VerifyingKey  # noqa: PLC0415
    from cssec.server.licensing.trust import VendorTrust  # noqa: PLC0415

    keys = network.app.state.vendor.keyring.jwks()["keys"]
    trust = VendorTrust(keys=tuple(VerifyingKey.from_jwk(k) for k in keys))
    code = desk.contract(seats=5).codes["CS"]
    server = await servers.start(activation_code=code, offline=True, trust=trust)
    body = {"route": "autopcc", "hostname": "pc-01", "os": "Linux"}
    response = await server.client.post("/api/v1/agent/enroll", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["vendor_keys"]["keys"]


def test_the_client_names_the_refusal_by_its_code_with_the_servers_next_step() -> None:
    import httpx  # noqa: PLC0415

    from cssec.client.agent import error_from_response  # noqa: PLC0415

    message = "… cssec server license import RESP.json …"
    response = httpx.Response(409, json={"code": "vendor_keys_not_pinned", "message": message})
    error = error_from_response(response)
    assert error.code == "vendor_keys_not_pinned"
    assert error.message("ja") == message
