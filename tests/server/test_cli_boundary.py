"""`cssec server` at the shared CLI boundary: language by option and locale, one-line faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.server import cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {}, "ja"),
        ((), {"LANG": "POSIX"}, "ja"),
        ((), {"LANG": "en_US.UTF-8"}, "en"),
        ((), {"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        (("--lang", "en"), {"LANG": "ja_JP.UTF-8"}, "en"),
        (("--lang", "en", "license", "show", "--lang", "ja"), {}, "ja"),
        (("license", "show", "--lang", "en"), {"LC_ALL": "ja_JP.UTF-8"}, "en"),
    ],
)
def test_language_by_option_and_environment(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    command = list(args) if "license" in args else [*args, "license", "show"]
    result = runner.invoke(cli.app, [*command, "--data", str(tmp_path / "none")], env=env)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: not_installed: ")
    english = not any("\u3040" <= ch <= "\u30ff" for ch in line)
    assert english == (expected == "en"), line


def test_lang_on_the_mounted_part(tmp_path: Path) -> None:
    args = ["server", "--lang", "en", "license", "show", "--data", str(tmp_path / "none")]
    result = runner.invoke(cssec_app, args, env={"LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: not_installed: ")
    assert not any("\u3040" <= ch <= "\u30ff" for ch in result.stderr)


def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "srv"
    data.mkdir()
    (data / "server.db").write_bytes(b"this is not an SQLite database" * 100)
    result = runner.invoke(cli.app, ["license", "show", "--data", str(data)])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: data_dir_error: データディレクトリ"), line
    english = runner.invoke(cli.app, ["--lang", "en", "license", "show", "--data", str(data)])
    [line] = english.stderr.strip().splitlines()
    assert line.startswith("error: data_dir_error: The database or a file"), line


def test_an_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["--lang", "fr", "license", "show"])
    assert result.exit_code == 2
