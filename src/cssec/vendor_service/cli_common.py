"""What every `cssec vendor …` command module shares: the --data and --force options, the
actor the audit log names, the opened vendor and one service run in a fresh session.

The data directory is chosen by `cli_data` (said on stderr when --data did not say it);
the vendor's faults (OS, database, key files) reach cssec.clikit's one line through the
root group of `vendor_service.cli`.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from cssec.clikit import choose_language
from cssec.vendor_service.cli_data import vendor_settings
from cssec.vendor_service.runtime import Vendor, open_vendor

DATA_HELP = (
    "Data directory (default: $CSSEC_VENDOR_DATA_DIR, else ~/.local/share/cssec/vendor or "
    "$XDG_DATA_HOME)."
)
DataOption = typer.Option(None, "--data", help=DATA_HELP, file_okay=False)
ForceOption = typer.Option(
    False, "--force", help="Replace an existing file (a link is replaced, not followed)."
)

T = TypeVar("T")


def cli_actor() -> str:
    """`cli:<login name>`, as the audit log names a shell's action."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def opened_vendor(data: Path | None, *, creating: bool = False) -> Iterator[Vendor]:
    """The opened vendor; only `creating` commands make a database in a default directory
    (cli_data). Its faults (OS, database, key files) reach cssec.clikit's line."""
    vendor = open_vendor(vendor_settings(data, creating=creating))
    try:
        yield vendor
    finally:
        vendor.close()


def run_service(data: Path | None, action: Callable[[Session], T]) -> T:
    """Run one service in a fresh session (a CssecError it raises is the command's refusal)."""
    with opened_vendor(data) as vendor, vendor.session() as session:
        return action(session)


def parse_day(ctx: typer.Context, text: str) -> date:
    """A --start date; a malformed one is a usage error (exit 2)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        ja = f"日付 {text!r}を YYYY-MM-DD 形式で指定してください。"
        en = f"give the date {text!r} as YYYY-MM-DD."
        message = ja if choose_language(ctx) == "ja" else en
        raise typer.BadParameter(message, ctx=ctx, param_hint="--start") from exc
