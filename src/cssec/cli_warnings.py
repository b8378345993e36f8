"""The warnings cssec logs while a command runs, as lines in the command's output language.

A warning meant for the person at the shell carries its text in both languages on the log
record (`extra={"message_ja": …, "message_en": …}`, as `cssec.web.filemodes` does for a
file mode it fixed); any other warning is shown as logged. Each line starts with 警告: /
warning: (`warning_line`). The server's commands print them once the command succeeded
(`server.cli_common.guarded`); the vendor's as they happen (`said_warnings`).
"""

from __future__ import annotations

import logging
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


class _Say(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        lang = current_language()
        typer.echo(warning_line(warning_text(record, lang), lang), err=True)


@contextmanager
def said_warnings() -> Iterator[None]:
    """While inside, every warning logged under `cssec` is printed on stderr as one
    `warning_line` in the output language (instead of Python's bare last-resort line)."""
    logger = logging.getLogger("cssec")
    if any(isinstance(h, _Say) for h in logger.handlers):  # a nested group already says them
        yield
        return
    handler = _Say()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


__all__ = ["said_warnings", "warning_line", "warning_text"]
