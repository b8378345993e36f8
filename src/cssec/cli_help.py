"""The pieces of `--help` in the output language that Typer and click do not offer a
setting for: their own words ("Options", "Usage: ", the `--help` option's text), long
texts that fold instead of being cut, and the path a usage error names. Used by
`cssec.clikit.localize_help`.
"""

from __future__ import annotations

import re
from typing import Any

from cssec.cli_usage import is_usage_error

HELP_OPTION_TEXT = "Show this message and exit."

_TYPER_EN: dict[str, str] = {}


def _typer_words(lang: str) -> dict[str, str]:
    from cssec.cli_help_ja import TYPER_JA  # noqa: PLC0415 - only --help needs it

    return dict(TYPER_JA) if lang == "ja" else {}


def localize_typer_words(lang: str) -> None:
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


def name_failing_command(command: Any) -> None:
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


def fold_long_help() -> None:
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


def localize_usage(command: Any, lang: str) -> None:
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


_TYPE_WORDS = {
    "ja": {"str": "文字列", "path": "パス", "dir": "ディレクトリ", "file": "ファイル",
           "int": "整数", "float": "数値"},
    "en": {"str": "text", "path": "path", "dir": "dir", "file": "file", "int": "int",
           "float": "number"},
}  # fmt: skip
_TYPE = re.compile(r"<(?:list\[(\w+)\]|(\w+)(?: range)?)>")


def type_label(shown: str | None, lang: str, *, flag: bool = False) -> str | None:
    """Typer's type column in words instead of Python's names: `<list[Path]>` → `<パス>…`,
    `<int range>` → `<整数>`, a flag's `<bool>` → nothing (it takes no value); choices such
    as `<ja|en>` stay as they are."""
    found = _TYPE.fullmatch(shown or "")
    if found is None:
        return shown
    listed, single = found.groups()
    name = (listed or single).lower()
    if name == "bool" and flag:
        return None
    word = _TYPE_WORDS["ja" if lang == "ja" else "en"].get(name)
    if word is None:
        return shown
    return f"<{word}>…" if listed else f"<{word}>"


def localize_types(param: Any, lang: str) -> None:
    """`param`'s type in the help's type column, in `lang` (`type_label`)."""
    param.__dict__["_cssec_type_lang"] = lang
    if "display_type_rich" in param.__dict__ or not hasattr(param, "display_type_rich"):
        return
    made_by_typer = param.display_type_rich

    def display_type_rich(ctx: Any) -> str | None:
        wanted = param.__dict__.get("_cssec_type_lang", "en")
        return type_label(made_by_typer(ctx=ctx), wanted, flag=bool(getattr(param, "is_flag", 0)))

    param.display_type_rich = display_type_rich


def localize_help_option(command: Any, text: str | None) -> None:
    """Click makes `--help` itself, when the command parses; its text follows `text`."""
    command.__dict__["_cssec_help_option_text"] = text
    if "get_help_option" in command.__dict__ or not hasattr(command, "get_help_option"):
        return
    made_by_click = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made_by_click(ctx)
        if option is not None:
            option.help = command.__dict__.get("_cssec_help_option_text") or HELP_OPTION_TEXT
            localize_types(option, "ja" if command.__dict__["_cssec_help_option_text"] else "en")
        return option

    command.get_help_option = get_help_option
