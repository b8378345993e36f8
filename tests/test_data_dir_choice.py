"""No command acts on a vendor or server the person did not choose (issue 23, finding 3):
`--data`, else CSSEC_VENDOR_DATA_DIR / CSSEC_SERVER_DATA_DIR, else the per-user default,
said on stderr; no database made in a default directory except by `serve`, `init` or
`server install`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.clikit import choose_data_dir
from cssec.server import cli as server_cli
from cssec.vendor_service import cli as vendor_cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The per-user default directories live under this test's own XDG_DATA_HOME."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("CSSEC_VENDOR_DATA_DIR", "CSSEC_SERVER_DATA_DIR", "CSSEC_VENDOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "xdg"


def test_the_choice_order_is_option_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    default = tmp_path / "default"
    assert choose_data_dir(None, variable="V", default=default).source == "default"
    monkeypatch.setenv("V", str(tmp_path / "env"))
    chosen = choose_data_dir(None, variable="V", default=default)
    assert (chosen.path, chosen.source) == (tmp_path / "env", "environment")
    given = choose_data_dir(tmp_path / "opt", variable="V", default=default)
    assert (given.path, given.source) == (tmp_path / "opt", "option")
    assert given.note("ja") is None
    assert "V" in (chosen.note("en") or "")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_vendor_command_refuses_an_empty_default_directory(home: Path, lang: str) -> None:
    result = runner.invoke(
        vendor_cli.app,
        ["--lang", lang, "contract", "new", "--customer", "Example K.K.", "--seats", "5"],
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    default = home / "cssec" / "vendor"
    assert lines[0].startswith("error: data_dir_not_chosen: ")
    assert str(default) in lines[0]
    assert "CSSEC_VENDOR_DATA_DIR" in lines[0]
    assert "cssec vendor init" in lines[0]
    assert not (default / "vendor.db").exists()


def test_init_makes_the_default_directory_then_commands_use_it_and_say_so(home: Path) -> None:
    made = runner.invoke(vendor_cli.app, ["init"])
    assert made.exit_code == 0, made.output
    default = home / "cssec" / "vendor"
    assert (default / "vendor.db").exists()
    issued = runner.invoke(
        vendor_cli.app,
        ["--lang", "en", "contract", "new", "--customer", "Example K.K.", "--seats", "5"],
    )
    assert issued.exit_code == 0, issued.output
    assert f"data directory: {default} (the default;" in issued.stderr


def test_the_environment_variable_points_commands_at_a_chosen_vendor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: Path
) -> None:
    chosen = tmp_path / "demo-vendor"
    assert runner.invoke(vendor_cli.app, ["init", "--data", str(chosen)]).exit_code == 0
    monkeypatch.setenv("CSSEC_VENDOR_DATA_DIR", str(chosen))
    issued = runner.invoke(
        vendor_cli.app, ["contract", "new", "--customer", "デモ商事", "--seats", "5"]
    )
    assert issued.exit_code == 0, issued.output
    assert f"データディレクトリ: {chosen}（環境変数 CSSEC_VENDOR_DATA_DIR）" in issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    found = runner.invoke(vendor_cli.app, ["code", "inspect", key, "--data", str(chosen)])
    assert found.exit_code == 0, found.output
    assert "データディレクトリ" not in found.stderr  # --data said it: no note
    assert not (home / "cssec" / "vendor").exists()


def test_a_server_command_names_the_variable_when_nothing_is_installed(home: Path) -> None:
    shown = runner.invoke(server_cli.app, ["--lang", "en", "license", "show"])
    assert shown.exit_code == 1, shown.output
    lines = shown.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: not_installed: ")
    assert "CSSEC_SERVER_DATA_DIR" in lines[0]
    assert str(home / "cssec" / "server") in lines[0]
    assert not (home / "cssec" / "server").exists()
