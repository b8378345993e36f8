"""Typer's usage errors as one line in the output language.

Typer prints a usage error (an unknown option, a missing argument, a value it cannot
convert) as a usage line, a hint and a box of several lines, in English. `cssec` prints
it like every other refusal, one line on stderr with a stable code (exit 2):

    error: usage_error: オプション --bogusはありません（使い方は cssec vendor --help）

The message is rebuilt from the exception's own fields (which option, which parameter,
which kind), not from Typer's English sentence; a value message Typer makes from a
conversion is matched against the shapes it has (`_VALUE_SHAPES`), and one this module
does not know is kept as it is (a message our own callbacks raise is already in the
output language).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from typer._click import exceptions as click_errors

USAGE_ERROR_CODE = "usage_error"

_Reading = Callable[[re.Match[str], str], str]


def _is(ja: str, en: str) -> _Reading:
    return lambda m, lang: (ja if lang == "ja" else en).format(*m.groups())


_KINDS_JA = {"file": "ファイル", "directory": "ディレクトリ", "path": "パス"}


def _path(ja: str, en: str) -> _Reading:
    def reading(m: re.Match[str], lang: str) -> str:
        kind, where = m.groups()
        return (
            ja.format(_KINDS_JA.get(kind.lower(), kind), where)
            if lang == "ja"
            else en.format(kind, where)
        )

    return reading


_VALUE_SHAPES: tuple[tuple[re.Pattern[str], _Reading], ...] = (
    (
        re.compile(r"(?:Value error, )?(.+?) is not one of (.+?)\.?$"),
        _is("{0}は指定できません（{1}のいずれかを指定してください）", "{0} is not one of {1}"),
    ),
    (
        re.compile(r"Input should be a valid integer.*"),
        _is("整数で指定してください", "give a whole number"),
    ),
    (
        re.compile(r"Input should be a valid (?:number|float).*"),
        _is("数値で指定してください", "give a number"),
    ),
    (
        re.compile(r"Input should be a valid boolean.*"),
        _is("true または falseで指定してください", "give true or false"),
    ),
    (
        re.compile(r"Input should be a valid date.*"),
        _is("日付を YYYY-MM-DD 形式で指定してください", "give a date as YYYY-MM-DD"),
    ),
    (
        re.compile(r"(\w+) (.+) does not exist\.$"),
        _path("{0} {1}がありません", "{0} {1} does not exist"),
    ),
    (re.compile(r"(\w+) (.+) is a file\.$"), _path("{1}はファイルです", "{0} {1} is a file")),
    (
        re.compile(r"(\w+) (.+) is a directory\.$"),
        _path("{1}はディレクトリです", "{0} {1} is a directory"),
    ),
    (
        re.compile(r"(\w+) (.+) is not readable\.$"),
        _path("{0} {1}を読み取れません", "{0} {1} is not readable"),
    ),
    (
        re.compile(r"(\w+) (.+) is not writable\.$"),
        _path("{0} {1}に書き込めません", "{0} {1} is not writable"),
    ),
)

_GENERAL_SHAPES: tuple[tuple[re.Pattern[str], _Reading], ...] = (
    (
        re.compile(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?$"),
        lambda m, lang: _no_such_command(m.group(1), m.group(2), lang),
    ),
    (
        re.compile(r"Missing command\.$"),
        _is("コマンドを指定してください", "give a command"),
    ),
    (
        re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$"),
        _is("余分な引数があります: {0}", "unexpected extra argument: {0}"),
    ),
    (
        re.compile(r"Option '(.+?)' requires an argument\.$"),
        _is("オプション {0}には値が必要です", "option {0} needs a value"),
    ),
    (
        re.compile(r"Option '(.+?)' requires (\d+) arguments\.$"),
        _is("オプション {0}には値が{1}個必要です", "option {0} needs {1} values"),
    ),
    (
        re.compile(r"Option '(.+?)' does not take a value\.$"),
        _is("オプション {0}は値をとりません", "option {0} takes no value"),
    ),
    (
        re.compile(r"Argument '(.+?)' takes (\d+) values\.$"),
        lambda m, lang: (
            f"引数 {m.group(1).upper()}には値が{m.group(2)}個必要です"
            if lang == "ja"
            else f"argument {m.group(1).upper()} takes {m.group(2)} values"
        ),
    ),
)


def _no_such_command(name: str, suggestions: str | None, lang: str) -> str:
    if lang == "ja":
        text = f"コマンド {name}はありません"
        return f"{text}（もしかして: {suggestions.replace(', ', '、')}）" if suggestions else text
    return f"no such command {name}" + (f" (did you mean {suggestions}?)" if suggestions else "")


def _read(shapes: tuple[tuple[re.Pattern[str], _Reading], ...], text: str, lang: str) -> str:
    text = " ".join(text.split())
    for pattern, reading in shapes:
        found = pattern.match(text)
        if found is not None:
            return reading(found, lang)
    return text.rstrip("。.")


def _param_name(param: Any, hint: Any) -> str:
    """`--seats` for an option, `CODE` for an argument (never Python's `request_file`)."""
    if isinstance(hint, str) and hint:
        return hint.strip("'\"")
    if param is None:
        return "?"
    if getattr(param, "param_type_name", "") == "option":
        opts = [o for o in getattr(param, "opts", []) if o.startswith("--")] or param.opts
        return str(max(opts, key=len))
    return str(param.name or "?").upper()


def _missing(error: Any, lang: str) -> str:
    name = _param_name(error.param, error.param_hint)
    kind = error.param_type or getattr(error.param, "param_type_name", "parameter")
    if lang == "ja":
        word = {"option": "オプション", "argument": "引数"}.get(kind, "パラメータ")
        return f"{word} {name}を指定してください"
    return f"missing {kind} {name}"


def _bad_value(error: Any, lang: str) -> str:
    name = _param_name(error.param, error.param_hint)
    reading = _read(_VALUE_SHAPES, error.message, lang)
    if lang == "ja":
        return f"{name}の値が正しくありません: {reading}"
    return f"invalid value for {name}: {reading}"


def _no_such_option(error: Any, lang: str) -> str:
    possible = sorted(getattr(error, "possibilities", None) or [])
    if lang == "ja":
        text = f"オプション {error.option_name}はありません"
        return f"{text}（もしかして: {'、'.join(possible)}）" if possible else text
    text = f"no such option {error.option_name}"
    return f"{text} (did you mean {', '.join(possible)}?)" if possible else text


def usage_message(error: Any, lang: str) -> str:
    """What is wrong, in `lang`, without Typer's English."""
    if isinstance(error, click_errors.MissingParameter):
        return _missing(error, lang)
    if isinstance(error, click_errors.BadParameter):
        return _bad_value(error, lang)
    if isinstance(error, click_errors.NoSuchOption):
        return _no_such_option(error, lang)
    return _read(_GENERAL_SHAPES, str(error.message), lang)


def usage_line(error: Any, lang: str, command_path: str | None = None) -> str:
    """The one stderr line: ``error: usage_error: <what is wrong> (<where the help is>)``;
    `command_path` names the command when the error does not know it."""
    ctx = getattr(error, "ctx", None)
    path = (
        getattr(ctx, "command_path", None)
        or getattr(error, "cssec_command_path", None)
        or command_path
        or "cssec"
    )
    message = usage_message(error, lang)
    if lang == "ja":
        return f"error: {USAGE_ERROR_CODE}: {message}（使い方は {path} --help）"
    return f"error: {USAGE_ERROR_CODE}: {message} (usage: {path} --help)"


def is_usage_error(error: BaseException) -> bool:
    """A usage error to print as one line (not the "no arguments: show the help" one)."""
    return isinstance(error, click_errors.UsageError) and not isinstance(
        error, click_errors.NoArgsIsHelpError
    )


__all__ = ["USAGE_ERROR_CODE", "is_usage_error", "usage_line", "usage_message"]
