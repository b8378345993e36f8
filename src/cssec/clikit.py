"""The command-line boundary that `cssec vendor`, `cssec server` and `cssec client` share.

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

import errno
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn

import typer
from typer.core import TyperGroup

from cssec.cli_usage import is_usage_error, usage_line
from cssec.core.errors import CssecError

SUCCESS = 0
NEGATIVE = 1
FAULT = 2

DEFAULT_LANGUAGE = "ja"
_LANG_KEY = "cssec.lang"
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


class Language(StrEnum):
    ja = "ja"
    en = "en"


LANG_HELP = "Output language, ja or en (default: from LC_ALL / LC_MESSAGES / LANG, else ja)."


def language_from_env(environ: Mapping[str, str]) -> str:
    """English only when the effective locale is English; Japanese for C, POSIX and the rest."""
    for name in _LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def choose_language(ctx: typer.Context, option: str | None = None) -> str:
    """The output language of this invocation: the newest `--lang` given, else the locale.

    Kept in `ctx.meta`, which every context of one invocation shares, so the error line
    printed by `Boundary` speaks the language a command chose.
    """
    meta = ctx.meta
    if option is not None:
        meta[_LANG_KEY] = Language(option).value
    elif _LANG_KEY not in meta:
        meta[_LANG_KEY] = language_from_env(os.environ)
    _CURRENT[_LANG_KEY] = str(meta[_LANG_KEY])
    return str(meta[_LANG_KEY])


_CURRENT: dict[str, str] = {}
"""The language the running invocation chose last, for code that has no context at hand
(`say_data_dir` deep in a command)."""


def current_language() -> str:
    """The language of the running invocation (see `choose_language`), for output code
    that has no context at hand."""
    return _CURRENT.get(_LANG_KEY) or language_from_env(os.environ)


def say(ja: str, en: str) -> str:
    """`ja` or `en`, whichever the running invocation speaks."""
    return ja if current_language() == "ja" else en


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_line(error: CssecError, lang: str, message: str | None = None) -> str:
    """``error: <code>: <message>``; `message` replaces the error's own (a command's
    sentence around it), in the same language."""
    return f"error: {error.code}: {one_line(message or error.message(lang))}"


class Fault(Exception):
    """A fault of the machine (OS, database, key files), explained by `error`: exits 2."""

    def __init__(self, error: CssecError) -> None:
        super().__init__(str(error))
        self.error = error


def refuse(
    ctx: typer.Context, error: CssecError, *, message: str | None = None, status: int = NEGATIVE
) -> NoReturn:
    """Print the one error line in the invocation's language, then exit `status`."""
    typer.echo(error_line(error, choose_language(ctx), message), err=True)
    raise typer.Exit(status)


class DiskFull(CssecError):
    code = "disk_full"
    status = 507
    message_ja = (
        "ディスクがいっぱいのため書き込めませんでした ({where})。保存できなかった変更は"
        "適用されていません。空き容量を確保してから、もう一度実行してください。"
    )
    message_en = (
        "The disk is full, so nothing more could be written ({where}); what was not saved "
        "did not take effect. Free some space, then run the command again."
    )


class PermissionDenied(CssecError):
    code = "permission_denied"
    status = 500
    message_ja = (
        "アクセス権がないため読み書きできませんでした ({where})。"
        "ファイルとディレクトリの所有者とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "Permission denied ({where}). Check the owner and permissions of the file and its "
        "directory, then run the command again."
    )


class OsFailure(CssecError):
    code = "os_error"
    status = 500
    message_ja = (
        "ファイルまたはシステムの操作に失敗しました ({detail})。"
        "パス、ディスクの状態とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "A file or system operation failed ({detail}). Check the path, the disk and its "
        "permissions, then run the command again."
    )


class DatabaseFault(CssecError):
    code = "database_error"
    status = 500
    message_ja = (
        "データベースを使用できませんでした ({detail})。データベースの場所、ディスクの状態と"
        "アクセス権 (PostgreSQLの場合は接続先)を確認してから、もう一度実行してください。"
    )
    message_en = (
        "The database could not be used ({detail}). Check where it is, the disk and its "
        "permissions (or, for PostgreSQL, the connection), then run the command again."
    )


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_DATABASE_ERRORS = (
    ("sqlalchemy.exc", "DBAPIError"),
    ("sqlite3", "Error"),
    ("psycopg", "Error"),
)


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class from a module already imported (one that is not cannot have
    raised anything)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _database_error(exc: BaseException) -> bool:
    return any(
        cls is not None and isinstance(exc, cls)
        for cls in (_loaded(module, name) for module, name in _DATABASE_ERRORS)
    )


def _clip(text: str, limit: int = 300) -> str:
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def explain_fault(exc: BaseException) -> CssecError | None:
    """The CssecError for an OS error or a database fault; None for anything else (a bug
    keeps its traceback)."""
    if isinstance(exc, OSError):
        where = str(exc.filename) if exc.filename else (exc.strerror or type(exc).__name__)
        if exc.errno in _FULL:
            return DiskFull(where=where)
        if exc.errno in _DENIED:
            return PermissionDenied(where=where)
        name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        suffix = f" ({exc.filename})" if exc.filename else ""
        return OsFailure(detail=_clip(f"{name}: {exc.strerror or exc}{suffix}"))
    if _database_error(exc):
        cause = getattr(exc, "orig", None)
        shown = cause if isinstance(cause, BaseException) else exc
        text = f"{type(shown).__name__}: {shown}"
        if "disk is full" in text or getattr(shown, "sqlstate", None) == "53100":
            return DiskFull(where=_clip(text))
        return DatabaseFault(detail=_clip(text))
    return None


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
    note = choice.note(_CURRENT.get(_LANG_KEY) or language_from_env(os.environ))
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


Explain = Callable[[BaseException], "CssecError | None"]


def help_language(args: list[str], ctx: Any = None) -> str:
    """The language `--help` speaks: a `--lang` anywhere on the line, else the one chosen
    earlier in this invocation, else the locale (the rule of `choose_language`)."""
    for index, arg in enumerate(args):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else None
        if arg == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        if value in {lang.value for lang in Language}:
            return str(value)
    meta = getattr(ctx, "meta", None) or {}
    return str(meta.get(_LANG_KEY) or language_from_env(os.environ))


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
    _localize_help_option(command, catalog.get(HELP_OPTION_TEXT) if lang == "ja" else None)
    _localize_usage(command, lang)
    _localize_typer_words(lang)
    _fold_long_help()
    _name_failing_command(command)
    for sub in (getattr(command, "commands", None) or {}).values():
        if not isinstance(sub, Boundary):  # a Boundary localizes itself when it parses
            localize_help(sub, lang, catalog)


HELP_OPTION_TEXT = "Show this message and exit."

_TYPER_EN: dict[str, str] = {}


def _typer_words(lang: str) -> dict[str, str]:
    from cssec.cli_help_ja import TYPER_JA  # noqa: PLC0415 - only --help needs it

    return dict(TYPER_JA) if lang == "ja" else {}


def _localize_typer_words(lang: str) -> None:
    """Typer's panel headings and markers ("Options", "[required]", …) are module-level
    constants of `typer.rich_utils`, read when the help is printed: set them to `lang`
    (the English ones are kept aside the first time, so English comes back)."""
    from typer import rich_utils  # noqa: PLC0415 - the help path only

    wanted = _typer_words(lang)
    for name in wanted.keys() | _TYPER_EN.keys():
        if name == "USAGE_PREFIX" or not hasattr(rich_utils, name):
            continue
        _TYPER_EN.setdefault(name, getattr(rich_utils, name))
        setattr(rich_utils, name, wanted.get(name, _TYPER_EN[name]))


def _name_failing_command(command: Any) -> None:
    """A usage error Typer's parser raises may not know its command; the command that
    parsed notes its path on the error, so the one line can say where the help is."""
    if "make_context" in command.__dict__ or not hasattr(command, "make_context"):
        return
    made_by_click = command.make_context

    def make_context(
        info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return made_by_click(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if is_usage_error(exc) and not hasattr(exc, "cssec_command_path"):
                above = getattr(parent, "command_path", None)
                exc.cssec_command_path = f"{above} {info_name}" if above else info_name  # type: ignore[attr-defined]
            raise

    command.make_context = make_context


def _fold_long_help() -> None:
    """Typer's help tables cut a line they cannot break with "…"; a Japanese sentence has no
    space to break at, so every one of them lost its end at 80 columns. Its texts fold
    instead (they wrap at the column edge; nothing is cut)."""
    from rich.text import Text  # noqa: PLC0415 - the help path only
    from typer import rich_utils  # noqa: PLC0415

    made_by_typer = rich_utils._make_rich_text  # the one hook Typer offers
    if getattr(made_by_typer, "_cssec_folds", False):
        return

    def folding(**kwargs: Any) -> Any:
        made = made_by_typer(**kwargs)
        if isinstance(made, Text):
            made.overflow = "fold"
        return made

    folding._cssec_folds = True  # type: ignore[attr-defined]
    rich_utils._make_rich_text = folding


def _localize_usage(command: Any, lang: str) -> None:
    """Click writes "Usage: " itself; in Japanese the usage line opens with 「使い方: 」."""
    prefix = _typer_words(lang).get("USAGE_PREFIX")
    command.__dict__["_cssec_usage_prefix"] = prefix
    if "format_usage" in command.__dict__ or not hasattr(command, "format_usage"):
        return

    def format_usage(ctx: Any, formatter: Any) -> None:
        pieces = command.collect_usage_pieces(ctx)
        formatter.write_usage(
            ctx.command_path, " ".join(pieces), prefix=command.__dict__.get("_cssec_usage_prefix")
        )

    command.format_usage = format_usage


def _localize_help_option(command: Any, text: str | None) -> None:
    """Click makes `--help` itself, when the command parses; its text follows `text`."""
    command.__dict__["_cssec_help_option_text"] = text
    if "get_help_option" in command.__dict__ or not hasattr(command, "get_help_option"):
        return
    made_by_click = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made_by_click(ctx)
        if option is not None:
            option.help = command.__dict__.get("_cssec_help_option_text") or HELP_OPTION_TEXT
        return option

    command.get_help_option = get_help_option


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
            _CURRENT[_LANG_KEY] = help_language(list(args))
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
    "FAULT",
    "LANG_HELP",
    "NEGATIVE",
    "SUCCESS",
    "Boundary",
    "DataChoice",
    "DataDirNotChosen",
    "DatabaseFault",
    "DiskFull",
    "Fault",
    "Language",
    "OsFailure",
    "PermissionDenied",
    "boundary",
    "choose_data_dir",
    "choose_language",
    "error_line",
    "explain_fault",
    "help_language",
    "language_from_env",
    "localize_help",
    "one_line",
    "refuse",
    "say_data_dir",
]
