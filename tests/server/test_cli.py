"""`cssec server …` (the Typer app the lead mounts): exit 0, or 1 with one line on stderr."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.server import PASSWORD, Desk, SwitchableTransport, foreign_code
from typer.testing import CliRunner

from cssec.server import cli, cli_common

runner = CliRunner()


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "admin.pw"
    path.write_text(PASSWORD + "\n")
    return path


VENDOR: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _vendor(monkeypatch: pytest.MonkeyPatch, network: SwitchableTransport) -> None:
    VENDOR["app"] = network.app
    monkeypatch.setattr(cli_common, "vendor_transport", lambda: network)
    monkeypatch.setenv("CSSEC_SERVER_TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def _install(data: Path, password_file: Path, *args: str) -> object:
    keys = data.parent / "vendor-keys.json"
    keys.write_text(json.dumps(VENDOR["app"].state.vendor.keyring.jwks()))
    return runner.invoke(
        cli.app,
        [
            "install",
            "--data",
            str(data),
            "--vendor-url",
            "http://vendor.test",
            "--admin-password-file",
            str(password_file),
            "--vendor-keys-file",
            str(keys),
            "--insecure-http",  # the in-process vendor at http://vendor.test
            *args,
        ],
    )


def test_offline_install_then_show(tmp_path: Path, password_file: Path) -> None:
    code = foreign_code(expires_on=date(2031, 3, 31))
    result = _install(tmp_path / "srv", password_file, "--activation-code", code, "--offline")
    assert result.exit_code == 0, result.output
    assert "サーバID: " in result.stdout  # LANG=ja_JP.UTF-8: the labels are Japanese
    shown = runner.invoke(cli.app, ["license", "show", "--data", str(tmp_path / "srv"), "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout) == [
        {
            "product": "CS",
            "product_name": "C/S Sec.",
            "version_type": "製品版",
            "activation_code": code,
            # Installed offline: accepted on its structure and check character only.
            "status": "unconfirmed",
            "stopped": [],
            "expires_on": "2031-03-31",
            "seats": 10,
            "seats_used": 0,
        }
    ]
    table = runner.invoke(cli.app, ["license", "show", "--data", str(tmp_path / "srv")])
    assert "アクティベート済み（ライセンスサーバで未確認）" in table.stdout
    assert "ライセンスサーバでまだ確認されていません" in table.stdout
    # An offline site is told its own way, by file, not only a button it cannot use.
    assert "[応答ファイルを取り込む]" in table.stdout


def test_refusals_are_one_line_on_stderr(tmp_path: Path, password_file: Path, desk: Desk) -> None:
    code = desk.contract().codes["CS"]
    typo = code[:3] + ("Z" if code[3] != "Z" else "Y") + code[4:]
    result = _install(tmp_path / "srv", password_file, "--activation-code", typo, "--offline")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: invalid_activation_code: 無効なアクティベーションコード")
    english = _install(
        tmp_path / "srv", password_file, "--activation-code", typo, "--offline", "--lang", "en"
    )
    [line] = english.stderr.strip().splitlines()
    assert "Invalid activation code" in line
    assert not (tmp_path / "srv").exists()

    nothing = _install(tmp_path / "srv", password_file)
    assert nothing.exit_code == 1
    assert "validation_error" in nothing.stderr

    missing = runner.invoke(cli.app, ["license", "show", "--data", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: not_installed:")


def test_online_install_activate_and_check(
    tmp_path: Path, password_file: Path, desk: Desk, network: SwitchableTransport
) -> None:
    contract = desk.contract(with_dcs=True)
    data = tmp_path / "srv"
    result = _install(data, password_file, "--registration-key", contract.registration_key)
    assert result.exit_code == 0, result.output
    assert "ウイルス感染復旧サービス" in result.stdout

    new_code = desk.reissue(contract.registration_key)
    activated = runner.invoke(cli.app, ["license", "activate", new_code, "--data", str(data)])
    assert activated.exit_code == 0, activated.output
    assert new_code in activated.stdout

    checked = runner.invoke(
        cli.app, ["license", "check-online", "--data", str(data), "--lang", "en"]
    )
    assert checked.exit_code == 0, checked.output
    assert "Activated" in checked.stdout

    network.mode = "down"
    failed = runner.invoke(cli.app, ["license", "check-online", "--data", str(data)])
    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: vendor_unreachable:")
    offline = runner.invoke(cli.app, ["license", "activate", new_code, "--data", str(data)])
    assert offline.exit_code == 0
    bad = runner.invoke(cli.app, ["license", "activate", "nonsense", "--data", str(data)])
    assert bad.exit_code == 1
    assert "invalid_activation_code" in bad.stderr


def test_backup_and_components_show_speak_the_output_language(
    tmp_path: Path, password_file: Path
) -> None:
    """Issue 23, finding 6: `backup` and `components show` printed English labels in ja."""
    code = foreign_code(expires_on=date(2031, 3, 31))
    data = tmp_path / "srv"
    installed = _install(data, password_file, "--activation-code", code, "--offline")
    assert installed.exit_code == 0  # type: ignore[attr-defined]
    out = tmp_path / "srv.backup"
    made = runner.invoke(cli.app, ["backup", "--out", str(out), "--data", str(data)])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"バックアップ: {out}（")
    assert "バックアップの鍵（restore --key-fileに指定）: " in made.stdout
    shown = runner.invoke(cli.app, ["components", "show", "--data", str(data)])
    assert shown.exit_code == 0, shown.output
    assert "検索エンジン: -（以前: -）" in shown.stdout
    assert "previous" not in shown.stdout
    english = runner.invoke(cli.app, ["components", "show", "--data", str(data), "--lang", "en"])
    assert english.exit_code == 0
    assert "scan engine: - (previous: -)" in english.stdout
