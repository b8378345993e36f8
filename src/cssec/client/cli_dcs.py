"""`cssec client clean` (Damage Cleanup Services) and `cssec client quarantine list|restore`.

`clean` exits 0 when every infected file got its damage cleanup template's action (or
nothing was found), 1 when some file could not be cleaned, 2 when it could not scan.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.client.cleanup import CleanupOutcome, clean_files
from cssec.client.cli_common import DIR_OPTION, fail, lang_of, system_clock
from cssec.client.messages import local_time, text
from cssec.client.quarantine import list_quarantine, restore
from cssec.client.state import ClientState
from cssec.core.errors import CssecError

quarantine_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Files Damage Cleanup moved aside: list them, restore one.",
)


def print_cleanup(outcome: CleanupOutcome, lang: str) -> None:
    counts = {"quarantined": 0, "deleted": 0, "reported": 0, "failed": 0}
    for taken in outcome.actions.values():
        counts[taken.result] += 1
        values = {
            "path": taken.path,
            "threat": taken.threat,
            "id": taken.quarantine_id,
            "detail": taken.error,
        }
        typer.echo(text(f"clean.{taken.result}", lang, **values), err=taken.error is not None)
    for issue in outcome.report.issues:
        typer.echo(text("scan.issue", lang, path=issue.path, detail=issue.detail), err=True)
    if not outcome.targets and not outcome.actions:
        typer.echo(text("clean.nothing", lang))
        return
    typer.echo(text("clean.summary", lang, files=outcome.report.files_scanned, **counts))
    if outcome.delivery == "sent":
        typer.echo(text("clean.sent", lang))
    elif outcome.delivery == "queued":
        typer.echo(text("clean.queued", lang), err=True)
    elif outcome.delivery == "dropped" and outcome.delivery_error is not None:
        message = outcome.delivery_error.message(lang)
        typer.echo(text("clean.not_reported", lang, message=message), err=True)


def clean(
    ctx: typer.Context,
    path: Path | None = typer.Argument(
        None, help="A file or folder (default: the detections not cleaned yet)."
    ),
    directory: Path = DIR_OPTION,
) -> None:
    """Damage Cleanup: apply the damage cleanup template (works in every license state)."""
    lang = lang_of(ctx)
    state = ClientState(directory)
    try:
        outcome = clean_files(
            state, [path] if path is not None else None, clock=system_clock(), lang=lang
        )
    except CssecError as exc:
        fail(exc.message(lang), 2, error=exc)
    print_cleanup(outcome, lang)
    raise typer.Exit(outcome.exit_code)


@quarantine_app.command("list")
def quarantine_list(ctx: typer.Context, directory: Path = DIR_OPTION) -> None:
    """List the quarantined files, oldest first."""
    lang = lang_of(ctx)
    records = list_quarantine(ClientState(directory))
    if not records:
        typer.echo(text("quarantine.empty", lang))
    for record in records:
        line = text(
            "quarantine.entry",
            lang,
            id=record.id,
            at=local_time(record.at),
            threat=record.threat,
            path=record.original_path,
            sha256=record.sha256,
        )
        typer.echo(line)


@quarantine_app.command("restore")
def quarantine_restore(
    ctx: typer.Context,
    quarantine_id: str = typer.Argument(..., metavar="ID", help="The ID shown by list."),
    directory: Path = DIR_OPTION,
) -> None:
    """Move a quarantined file back (never overwrites; checks its SHA-256 first)."""
    lang = lang_of(ctx)
    state = ClientState(directory)
    try:
        with state.lock():
            record = restore(state, quarantine_id)
    except CssecError as exc:
        fail(exc.message(lang), error=exc)
    typer.echo(text("quarantine.restored", lang, id=record.id, path=record.original_path))
