"""`cssec server admin password`: set a Web manager password from the server's own console
(mounted by cssec.server.cli). For whoever holds the data directory, e.g. after the
password is lost, so no current password is asked; every session of the account ends and
the system event log records the change."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from cssec.clikit import LANG_HELP, Language, choose_language
from cssec.core.clock import SystemClock
from cssec.server.accounts.errors import WeakPassword
from cssec.server.accounts.password import MIN_PASSWORD_LENGTH, reset_password
from cssec.server.licensing.errors import NotInstalled
from cssec.server.licensing.install_build import ADMIN_USERNAME
from cssec.server.settings import ServerSettings
from cssec.server.storage.datadir import DataDir, open_database

admin_app = typer.Typer(no_args_is_help=True, help="Web manager accounts.")
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: per-user).")
]
LangOption = Annotated[
    Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
]
_PROMPTS = {
    "ja": ("新しいパスワード: ", "新しいパスワード（確認）: "),
    "en": ("New password: ", "New password again: "),
}


def _new_password(password_file: Path | None, lang: str) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    first, again = (getpass.getpass(prompt) for prompt in _PROMPTS[lang])
    if first != again:
        raise WeakPassword(min_length=MIN_PASSWORD_LENGTH)
    return first


@admin_app.command("password")
def admin_password(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="The account.")] = ADMIN_USERNAME,
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="File whose first line is the new password."),
    ] = None,
    data: DataOption = None,
    lang: LangOption = None,
) -> None:
    """Set a Web manager password (asked twice, or read from --password-file); every
    session of the account ends."""
    language = choose_language(ctx, lang)
    settings = ServerSettings(data_dir=data) if data is not None else ServerSettings()
    found = DataDir(settings.data_dir)
    if not found.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    new = _new_password(password_file, language)
    engine, sessions = open_database(found)
    try:
        with sessions() as session:
            ended = reset_password(session, user, new, now=SystemClock().now())
    finally:
        engine.dispose()
    typer.echo(
        f"ユーザー「{user}」のパスワードを変更しました（終了したセッション: {ended}件）。"
        if language == "ja"
        else f"Password of {user} changed ({ended} sessions ended)."
    )
