"""The warnings cssec logs while a command runs, as lines in the command's output language.

A warning meant for the person at the shell carries its text in both languages on the log
record (`extra={"message_ja": …, "message_en": …}`, as `cssec.web.filemodes` does for a
file mode it fixed); any other warning is shown as logged. Each line starts with 警告: /
warning: (`warning_line`). The server's commands print them once the command succeeded
(`server.cli_common.guarded`), the vendor's too (`said_warnings`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from cssec.cli_language import current_language


def warning_text(record: logging.LogRecord, lang: str) -> str:
    """The record's message in `lang` when it carries one, else as logged, on one line."""
    said = getattr(record, f"message_{lang}", None)
    text = said if isinstance(said, str) else record.getMessage()
    return " ".join(text.split())


def warning_line(text: str, lang: str) -> str:
    return f"警告: {text}" if lang == "ja" else f"warning: {text}"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _succeeded() -> bool:
    """No exception on its way out of the command (a refusal or a fault leaves as
    `typer.Exit` with its status, after its one line). Click's own Exit only if Click was
    loaded: Typer no longer needs it, and the client's commands do without its megabyte."""
    failure = sys.exc_info()[1]
    click = sys.modules.get("click.exceptions")
    exits = (typer.Exit, click.Exit) if click is not None else (typer.Exit,)
    return failure is None or (isinstance(failure, exits) and not failure.exit_code)


@contextmanager
def said_warnings() -> Iterator[None]:
    """Every warning logged under `cssec` while inside is printed on stderr as one
    `warning_line` in the output language when the command ends, if it succeeded (a
    refusal or a fault stays the one line it is), as the server's commands do.

    Entered as a Click context's resource (`ctx.with_resource`), whose close is given no
    exception: the one on its way out is the one being handled (`sys.exc_info`)."""
    logger = logging.getLogger("cssec")
    if any(isinstance(h, _Collect) for h in logger.handlers):  # a nested group collects them
        yield
        return
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        if _succeeded():
            lang = current_language()
            for record in handler.records:
                typer.echo(warning_line(warning_text(record, lang), lang), err=True)


__all__ = ["said_warnings", "warning_line", "warning_text"]
