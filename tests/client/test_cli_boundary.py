"""`cssec client` at the shared CLI boundary: language by option and locale, one-line faults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.client.cli import app

NO_LOCALE: dict[str, str | None] = {"LANG": None, "LC_ALL": None, "LC_MESSAGES": None}


def run(*args: str, **env: str) -> Any:
    return CliRunner().invoke(app, list(args), env={**NO_LOCALE, **env})


@pytest.mark.parametrize(
    ("options", "env", "expected"),
    [
        ((), {}, "ja"),
        ((), {"LANG": "C"}, "ja"),
        ((), {"LANG": "en_US.UTF-8"}, "en"),
        ((), {"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        ((), {"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        (("--lang", "en"), {"LANG": "ja_JP.UTF-8"}, "en"),
        (("--lang", "ja"), {"LANG": "en_US.UTF-8"}, "ja"),
    ],
)
def test_language_by_option_and_environment(
    tmp_path: Path, options: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    result = run(*options, "update", "--dir", str(tmp_path / "nowhere"), **env)
    assert result.exit_code == 1
    wanted = "アップデートに失敗しました" if expected == "ja" else "The update failed"
    assert result.stderr.startswith(f"error: client_not_installed: {wanted}"), result.stderr


def test_lang_reaches_every_command(tmp_path: Path) -> None:
    """`--lang` on the part is seen by commands defined outside cli.py too."""
    result = run("--lang", "en", "quarantine", "list", "--dir", str(tmp_path), LANG="ja_JP.UTF-8")
    assert result.exit_code == 0
    assert not any("\u3040" <= ch <= "\u30ff" for ch in result.stdout), result.stdout


def test_lang_on_the_mounted_part(tmp_path: Path) -> None:
    args = ["client", "--lang", "en", "update", "--dir", str(tmp_path / "nowhere")]
    result = CliRunner().invoke(cssec_app, args, env={**NO_LOCALE, "LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: client_not_installed: The update failed")


def test_a_directory_under_a_file_is_one_line(agent_server: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    where = tmp_path / "file" / "client"
    result = run("install", "--server", agent_server.url, "--dir", str(where))
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: os_error: ファイルまたはシステムの操作に失敗しました"), line
    assert "Traceback" not in result.output


def test_the_client_cli_loads_no_click() -> None:
    """Typer no longer needs Click; loading it costs every client command about 1 MB."""
    probe = "import sys, cssec.cli, cssec.client.cli\nprint('click' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"
