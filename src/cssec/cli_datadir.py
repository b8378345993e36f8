"""Which data directory a `cssec vendor` or `cssec server` command works on, and the note
on stderr that says so (re-exported by cssec.clikit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import typer

from cssec.cli_language import current_language
from cssec.core.errors import CssecError

DataSource = Literal["option", "environment", "default"]


@dataclass(frozen=True)
class DataChoice:
    """The data directory a command works on, and who chose it: `--data`, the part's
    environment variable (CSSEC_VENDOR_DATA_DIR, CSSEC_SERVER_DATA_DIR: what the demo
    prints), or nobody (the per-user default)."""

    path: Path
    source: DataSource
    variable: str

    def note(self, lang: str) -> str | None:
        """The stderr line saying which directory is used when `--data` did not say it."""
        if self.source == "option":
            return None
        if self.source == "environment":
            if lang == "ja":
                return f"データディレクトリ: {self.path}（環境変数 {self.variable}）"
            return f"data directory: {self.path} (from {self.variable})"
        if lang == "ja":
            return (
                f"データディレクトリ: {self.path}（既定。--data DIR または環境変数 "
                f"{self.variable}で変更できます）"
            )
        return f"data directory: {self.path} (the default; --data DIR or {self.variable} chooses)"


def choose_data_dir(given: Path | None, *, variable: str, default: Path) -> DataChoice:
    """`--data` if given, else the environment variable, else `default`."""
    if given is not None:
        return DataChoice(given, "option", variable)
    from_env = os.environ.get(variable, "").strip()
    if from_env:
        return DataChoice(Path(from_env).expanduser(), "environment", variable)
    return DataChoice(default, "default", variable)


def say_data_dir(choice: DataChoice) -> None:
    """Print `choice.note` on stderr in the invocation's language (nothing after --data)."""
    note = choice.note(current_language())
    if note is not None:
        typer.echo(note, err=True)


class DataDirNotChosen(CssecError):
    """Nobody chose this directory and it holds nothing: a command there would act on a
    new, empty vendor or server that the person never meant."""

    code = "data_dir_not_chosen"
    status = 400
    message_ja = (
        "既定のデータディレクトリ {path}には{part}のデータがありません。使うデータディレクトリを "
        "--data DIR または環境変数 {variable}で指定してください（デモは起動時に表示します）。"
        "ここに新しく作る場合は「{init}」を実行してください。"
    )
    message_en = (
        "The default data directory {path} holds no {part_en}. Choose the data directory with "
        "--data DIR or {variable} (the demo prints it when it starts); to make a new one here, "
        "run `{init}`."
    )
