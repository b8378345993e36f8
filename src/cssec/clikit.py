"""The command-line boundary that `cssec vendor`, `cssec server` and `cssec client` share.

Its parts live in their own modules and are re-exported here, so a command imports them
from one place: the language (`cli_language`), the faults and the error line
(`cli_faults`), the data directory choice (`cli_datadir`), the localized help
(`cli_help`), and the usage errors (`cli_usage`).

Typer and `cssec.core` only, so the client can use it without loading a web or database
stack (database errors are recognised through `sys.modules`, never imported).

Language. Japanese by default, English second. `--lang ja|en` on the part (`cssec server
--lang en …`, and on any command that has its own `--lang`) wins; otherwise the locale:
LC_ALL, then LC_MESSAGES, then LANG, the first one set decides (`en_US.UTF-8` → en,
`ja_JP.UTF-8` → ja; `C`, `POSIX`, any other locale or none → ja).

Errors. A `CssecError`, an OS error (disk full, permission denied, …) or a database fault
(SQLAlchemy, sqlite3, psycopg) that leaves a command is printed as one line on stderr,
``error: <code>: <message in the chosen language>``, never as a traceback.

Exit status, the same for every command:

- 0: success.
- 1: a negative answer: the code is invalid, expired or revoked; the operation was refused
  (a `CssecError`: not installed, license expired, …); `client scan` found threats.
- 2: a usage error (Typer's, e.g. an unknown option) or a fault: the OS, the database, the
  vendor's key files; `client scan` could not scan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NoReturn

import typer
from typer.core import TyperGroup

from cssec.cli_datadir import (
    DataChoice,
    DataDirNotChosen,
    DataSource,
    choose_data_dir,
    say_data_dir,
)
from cssec.cli_faults import (
    DatabaseFault,
    DiskFull,
    Fault,
    OsFailure,
    PermissionDenied,
    error_line,
    explain_fault,
    one_line,
)
from cssec.cli_help import (
    HELP_OPTION_TEXT,
    fold_long_help,
    localize_help_option,
    localize_typer_words,
    localize_types,
    localize_usage,
    name_failing_command,
)
from cssec.cli_language import (
    DEFAULT_LANGUAGE,
    LANG_HELP,
    Language,
    choose_language,
    current_language,
    help_language,
    language_from_env,
    remember_language,
    say,
)
from cssec.cli_usage import is_usage_error, usage_line
from cssec.core.errors import CssecError

SUCCESS = 0
NEGATIVE = 1
FAULT = 2


def refuse(
    ctx: typer.Context, error: CssecError, *, message: str | None = None, status: int = NEGATIVE
) -> NoReturn:
    """Print the one error line in the invocation's language, then exit `status`."""
    typer.echo(error_line(error, choose_language(ctx), message), err=True)
    raise typer.Exit(status)


Explain = Callable[[BaseException], "CssecError | None"]


def localize_help(command: Any, lang: str, catalog: Mapping[str, str] | None = None) -> None:
    """Put `command`'s help texts (its own, its options', its subcommands', recursively) in
    `lang`; English texts are the keys, whitespace collapsed. The English is kept aside,
    so switching back works within one process."""
    if catalog is None:
        from cssec.cli_help_ja import HELP_JA  # noqa: PLC0415 - only --help needs it

        catalog = HELP_JA
    items: list[Any] = [command, *getattr(command, "params", [])]
    for item in items:
        for attr in ("help", "short_help"):
            original = item.__dict__.setdefault(f"_cssec_en_{attr}", getattr(item, attr, None))
            if not isinstance(original, str):
                continue
            wanted = catalog.get(" ".join(original.split())) if lang == "ja" else None
            setattr(item, attr, wanted or original)
        if item is not command:
            localize_types(item, lang)
    localize_help_option(command, catalog.get(HELP_OPTION_TEXT) if lang == "ja" else None)
    localize_usage(command, lang)
    localize_typer_words(lang)
    fold_long_help()
    name_failing_command(command)
    for sub in (getattr(command, "commands", None) or {}).values():
        if not isinstance(sub, Boundary):  # a Boundary localizes itself when it parses
            localize_help(sub, lang, catalog)


def program_path(part: str | None) -> str:
    """What a person types to reach a group run on its own: `cssec`, or `cssec vendor` for a
    part (`typer.Typer(name=…)`), whatever name the process was started under (`__main__`,
    a test runner's `root`); usage errors and `--help` name every command from it."""
    return f"cssec {part}" if part and part != "cssec" else "cssec"


class Boundary(TyperGroup):
    """A Typer group whose commands end as the module docstring says: a CssecError exits 1,
    a `Fault` or an error `explain` knows exits 2, each as one line on stderr. Its help
    (and its commands') is shown in the output language (`localize_help`).

    A part passes `cls=Boundary` (or a subclass with its own `explain`) to `typer.Typer`; it
    holds whether the part runs alone or mounted under `cssec`.
    """

    explain: ClassVar[Explain] = staticmethod(explain_fault)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        if parent is None:  # a new invocation: its whole line decides (a --lang anywhere)
            remember_language(help_language(list(args)))
            info_name = program_path(self.name)
        localize_help(self, help_language(list(args), parent))
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if not is_usage_error(exc):
                raise
            where = f"{parent.command_path} {info_name}" if parent is not None else info_name
            self._usage_exit(exc, where)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Fault as exc:
            self._exit(ctx, exc.error, FAULT)
        except CssecError as exc:
            self._exit(ctx, exc, NEGATIVE)
        except Exception as exc:
            if is_usage_error(exc):
                sub = ctx.invoked_subcommand
                self._usage_exit(exc, f"{ctx.command_path} {sub}" if sub else ctx.command_path)
            error = type(self).explain(exc)
            if error is None:
                raise
            self._exit(ctx, error, FAULT)

    @staticmethod
    def _usage_exit(error: BaseException, where: str | None) -> NoReturn:
        """Typer's usage error (several English lines in a box) as our one line, exit 2."""
        typer.echo(usage_line(error, current_language(), where), err=True)
        raise typer.Exit(FAULT) from None

    @staticmethod
    def _exit(ctx: Any, error: CssecError, status: int) -> NoReturn:
        typer.echo(error_line(error, choose_language(ctx)), err=True)
        raise typer.Exit(status) from None


def boundary(explain: Explain) -> type[Boundary]:
    """A `Boundary` that also explains the faults `explain` knows (before the OS/database
    defaults)."""

    def both(exc: BaseException) -> CssecError | None:
        return explain(exc) or explain_fault(exc)

    return type("Boundary", (Boundary,), {"explain": staticmethod(both)})


__all__ = [
    "DEFAULT_LANGUAGE",
    "FAULT",
    "HELP_OPTION_TEXT",
    "LANG_HELP",
    "NEGATIVE",
    "SUCCESS",
    "Boundary",
    "DataChoice",
    "DataDirNotChosen",
    "DataSource",
    "DatabaseFault",
    "DiskFull",
    "Explain",
    "Fault",
    "Language",
    "OsFailure",
    "PermissionDenied",
    "boundary",
    "choose_data_dir",
    "choose_language",
    "current_language",
    "error_line",
    "explain_fault",
    "help_language",
    "language_from_env",
    "localize_help",
    "one_line",
    "program_path",
    "refuse",
    "say",
    "say_data_dir",
]
