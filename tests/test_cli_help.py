"""`--help` speaks the output language: every help text of `cssec` and its three parts
has its Japanese (cssec.cli_help_ja), and the language rule of the output
(`--lang`, else the locale) picks it."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.cli_help_ja import HELP_JA

NO_LOCALE = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}


def _help_texts(command: Any) -> set[str]:
    found: set[str] = set()
    for item in (command, *getattr(command, "params", [])):
        for attr in ("help", "short_help"):
            text = item.__dict__.get(f"_cssec_en_{attr}", getattr(item, attr, None))
            if isinstance(text, str) and text.strip():
                found.add(" ".join(text.split()))
    for sub in (getattr(command, "commands", None) or {}).values():
        found |= _help_texts(sub)
    return found


@pytest.mark.parametrize(
    "module", ["cssec.cli", "cssec.server.cli", "cssec.client.cli", "cssec.vendor_service.cli"]
)
def test_every_help_text_has_its_japanese(module: str) -> None:
    command = typer.main.get_command(importlib.import_module(module).app)
    missing = sorted(_help_texts(command) - set(HELP_JA))
    assert missing == [], missing


def test_help_follows_the_output_language() -> None:
    runner = CliRunner()
    japanese = runner.invoke(cssec_app, ["client", "status", "--help"], env=NO_LOCALE)
    assert japanese.exit_code == 0
    assert "JSONで出力します" in japanese.stdout
    assert "このヘルプを表示して終了します" in japanese.stdout
    english = runner.invoke(
        cssec_app, ["client", "status", "--help"], env={**NO_LOCALE, "LANG": "en_US.UTF-8"}
    )
    assert "Print JSON." in english.stdout
    assert "Show this message and exit." in english.stdout
    assert "JSONで出力します" not in english.stdout
    chosen = runner.invoke(
        cssec_app, ["server", "--lang", "en", "license", "--help"], env=NO_LOCALE
    )
    assert "License slots of an installed server." in chosen.stdout
    parts = runner.invoke(cssec_app, ["--help"], env=NO_LOCALE)
    assert "C/S Sec.クライアント。" in parts.stdout
    back = runner.invoke(cssec_app, ["server", "license", "--help"], env=NO_LOCALE)
    assert "インストール済みサーバのライセンス" in back.stdout


def test_typers_own_words_follow_the_output_language() -> None:
    """The usage prefix, the panel headings and the markers Typer prints itself are in the
    output language too, and English comes back within one process."""
    runner = CliRunner()
    english_words = ("Usage:", "Options", "Commands", "Arguments", "[required]")
    for _ in range(2):  # Japanese, English, Japanese again, English again
        scan = runner.invoke(cssec_app, ["client", "scan", "--help"], env=NO_LOCALE)
        assert scan.exit_code == 0, scan.output
        top = runner.invoke(cssec_app, ["--help"], env=NO_LOCALE)
        status = runner.invoke(cssec_app, ["client", "status", "--help"], env=NO_LOCALE)
        japanese = scan.stdout + top.stdout + status.stdout
        for word in ("使い方: cssec client scan", "引数", "オプション", "コマンド", "[必須]"):
            assert word in japanese, word
        for word in (*english_words, "Show this message and exit."):
            assert word not in japanese, word
        english = "".join(
            runner.invoke(
                cssec_app, [*args, "--help"], env={**NO_LOCALE, "LANG": "en_US.UTF-8"}
            ).stdout
            for args in (["client", "scan"], [], ["client", "status"])
        )
        for word in english_words:
            assert word in english, word
        for word in ("使い方", "オプション", "[必須]"):
            assert word not in english, word
