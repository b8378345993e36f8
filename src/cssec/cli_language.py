"""The output language of a `cssec` command (re-exported by cssec.clikit).

Japanese by default, English second. `--lang ja|en` on the part (`cssec server --lang en
…`, and on any command that has its own `--lang`) wins; otherwise the locale: LC_ALL, then
LC_MESSAGES, then LANG, the first one set decides (`en_US.UTF-8` → en, `ja_JP.UTF-8` → ja;
`C`, `POSIX`, any other locale or none → ja).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import typer

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


def remember_language(lang: str) -> None:
    """A new invocation's language, before any command has chosen (`clikit.Boundary`)."""
    _CURRENT[_LANG_KEY] = lang


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
