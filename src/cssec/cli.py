"""The one `cssec` command: vendor, server, client and demo.

The three parts are loaded only when named: a client PC running `cssec client …` never
imports the vendor service or the server (their web stacks would triple its memory).
All three share cssec.clikit: the language rule (`--lang ja|en` on each part, else the
locale, else Japanese), the one-line error on stderr and the exit statuses (0 success,
1 a negative answer, 2 a usage error or a fault).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import typer

from cssec.clikit import (
    LANG_HELP,
    Boundary,
    Language,
    choose_language,
    help_language,
    localize_help,
)

_PARTS: dict[str, tuple[str, str]] = {
    "vendor": ("cssec.vendor_service.cli", "The vendor license service and ActiveUpdate."),
    "server": ("cssec.server.cli", "The on-site C/S Sec. server and its Web manager."),
    "client": ("cssec.client.cli", "The C/S Sec. client agent."),
}


# Typer vendors click; its Context/Command types are reached through the group's own
# signatures rather than a private module.
_Context = Any
_Command = Any


class _LazyParts(Boundary):
    def list_commands(self, ctx: _Context) -> list[str]:
        return [*_PARTS, *super().list_commands(ctx)]

    def get_command(self, ctx: _Context, cmd_name: str) -> _Command:
        if cmd_name not in _PARTS:
            return super().get_command(ctx, cmd_name)
        module_name, help_text = _PARTS[cmd_name]
        part: typer.Typer = importlib.import_module(module_name).app
        command = typer.main.get_command(part)
        command.name = cmd_name
        # English kept as the original (`localize_help`), shown in the output language.
        command.__dict__["_cssec_en_help"] = command.__dict__["_cssec_en_short_help"] = help_text
        command.help = command.short_help = help_text
        localize_help(command, help_language([], ctx))
        return command


app = typer.Typer(
    cls=_LazyParts,
    no_args_is_help=True,
    add_completion=False,
    help="C/S Sec. licensing: the vendor service, the on-site server and its clients.",
)


@app.callback()
def main() -> None:
    """C/S Sec. licensing: the vendor service, the on-site server and its clients."""


@app.command()
def demo(
    ctx: typer.Context,
    directory: Path | None = typer.Option(
        None, "--dir", help="An empty directory to keep (default: a temporary one)."
    ),
    vendor_port: int = typer.Option(0, help="Vendor port (default: a free one)."),
    server_port: int = typer.Option(0, help="Server port (default: a free one)."),
    lang: Language | None = typer.Option(None, "--lang", case_sensitive=False, help=LANG_HELP),
) -> None:
    """Start a vendor, a server installed by online registration and two clients, on SQLite."""
    # httpx and rich: only the demo needs them, not every `cssec` command.
    from cssec.demo import run_demo  # noqa: PLC0415
    from cssec.demo_processes import DemoError  # noqa: PLC0415

    language = choose_language(ctx, lang)
    try:
        run_demo(directory, vendor_port=vendor_port, server_port=server_port, lang=language)
    except DemoError as exc:
        typer.echo(f"cssec demo: {exc}", err=True)
        raise typer.Exit(1) from exc
