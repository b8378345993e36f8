"""What every `cssec client` command module shares: language, clock, failing, --dir."""

from __future__ import annotations

import os
from typing import NoReturn

import typer

from cssec.client.messages import language_from_env
from cssec.core.clock import Clock, SystemClock
from cssec.core.errors import CssecError

_LANG_KEY = "cssec.client.lang"
DIR_OPTION = typer.Option(..., "--dir", help="The client's directory (state and components).")


def lang_of(ctx: typer.Context) -> str:
    """The language, read once from LANG / LC_ALL and kept on the root context."""
    meta = ctx.meta
    if _LANG_KEY not in meta:
        meta[_LANG_KEY] = language_from_env(os.environ)
    return str(meta[_LANG_KEY])


def system_clock() -> Clock:
    return SystemClock()


def fail(message: str, code: int = 1, *, error: CssecError | None = None) -> NoReturn:
    """The one-line reason on stderr, then exit non-zero: ``error: <code>: <message>`` as
    the server's commands print it (`cssec.clikit.error_line`) when an error is known."""
    line = " ".join(message.split())
    typer.echo(f"error: {error.code}: {line}" if error is not None else line, err=True)
    raise typer.Exit(code)
