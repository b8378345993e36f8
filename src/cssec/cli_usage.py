"""Typer's usage errors as one line in the output language.

Typer prints a usage error (an unknown option, a missing argument, a value it cannot
convert) as a usage line, a hint and a box of several lines, in English. `cssec` prints
it like every other refusal, one line on stderr with a stable code (exit 2):

    error: usage_error: オプション --bogusはありません（使い方は cssec vendor --help）

The message is rebuilt from the exception's own fields (which option, which parameter,
which kind), not from Typer's English sentence; a message Typer makes (from a conversion
or otherwise) is matched against the sentences it has (`_SENTENCES`), and one this module
does not know is kept as it is (a message our own callbacks raise is already in the
output language).
"""

from __future__ import annotations

import re
from typing import Any

from typer._click import exceptions as click_errors

USAGE_ERROR_CODE = "usage_error"

_KINDS_JA = {
    "file": "ファイル",
    "directory": "ディレクトリ",
    "path": "パス",
    "option": "オプション",
    "argument": "引数",
    "command": "コマンド",
}

_SENTENCES: dict[str, tuple[str, str]] = {
    r"(?:Value error, )?(.+?) is not one of (.+?)\.?$": (
        "{0}は指定できません（{1}のいずれかを指定してください）",
        "{0} is not one of {1}",
    ),
    r"Input should be a valid integer.*": (
        "整数で指定してください",
        "give a whole number",
    ),
    r"Input should be a valid (?:number|float).*": (
        "数値で指定してください",
        "give a number",
    ),
    r"Input should be a valid boolean.*": (
        "true または falseで指定してください",
        "give true or false",
    ),
    r"Input should be a valid date.*": (
        "日付を YYYY-MM-DD 形式で指定してください",
        "give a date as YYYY-MM-DD",
    ),
    r"(?P<kind>\w+) (.+) does not exist\.$": (
        "{kind} {1}がありません",
        "{0} {1} does not exist",
    ),
    r"(?P<kind>\w+) (.+) is a file\.$": (
        "{1}はファイルです",
        "{0} {1} is a file",
    ),
    r"(?P<kind>\w+) (.+) is a directory\.$": (
        "{1}はディレクトリです",
        "{0} {1} is a directory",
    ),
    r"(?P<kind>\w+) (.+) is not readable\.$": (
        "{kind} {1}を読み取れません",
        "{0} {1} is not readable",
    ),
    r"(?P<kind>\w+) (.+) is not writable\.$": (
        "{kind} {1}に書き込めません",
        "{0} {1} is not writable",
    ),
    r"Missing command\.$": (
        "コマンドを指定してください",
        "give a command",
    ),
    r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$": (
        "余分な引数があります: {0}",
        "unexpected extra argument: {0}",
    ),
    r"Option '(.+?)' requires an argument\.$": (
        "オプション {0}には値が必要です",
        "option {0} needs a value",
    ),
    r"Option '(.+?)' requires (\d+) arguments\.$": (
        "オプション {0}には値が{1}個必要です",
        "option {0} needs {1} values",
    ),
    r"Option '(.+?)' does not take a value\.$": (
        "オプション {0}は値をとりません",
        "option {0} takes no value",
    ),
    r"Argument '(?P<name>.+?)' takes (\d+) values\.$": (
        "引数 {name}には値が{1}個必要です",
        "argument {name} takes {1} values",
    ),
}
"""Typer's sentences, as patterns, with what each says in Japanese and in English: `{0}`,
`{1}` are the pattern's groups; a group named `kind` is a word for a path or a parameter
(in Japanese in `{kind}`), one named `name` an argument's name, written as the help does
(upper case)."""

_SHAPES = tuple((re.compile(pattern), said) for pattern, said in _SENTENCES.items())
_NO_SUCH_COMMAND = re.compile(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?$")


def _no_such(kind: str, name: str, possible: list[str], lang: str) -> str:
    """「オプション --bogsはありません（もしかして: --bogus）」, for an option or a command."""
    if lang == "ja":
        text = f"{_KINDS_JA[kind]} {name}はありません"
        return f"{text}（もしかして: {'、'.join(possible)}）" if possible else text
    text = f"no such {kind} {name}"
    return f"{text} (did you mean {', '.join(possible)}?)" if possible else text


def _read(text: str, lang: str) -> str:
    """Typer's sentence `text` said in `lang`, or `text` as it is when it is none of them."""
    text = " ".join(text.split())
    command = _NO_SUCH_COMMAND.match(text)
    if command is not None:
        possible = command.group(2).split(", ") if command.group(2) else []
        return _no_such("command", command.group(1), possible, lang)
    for pattern, (ja, en) in _SHAPES:
        found = pattern.match(text)
        if found is not None:
            named = found.groupdict()
            if "name" in named:
                named["name"] = named["name"].upper()
            if "kind" in named and lang == "ja":
                named["kind"] = _KINDS_JA.get(named["kind"].lower(), named["kind"])
            return (ja if lang == "ja" else en).format(*found.groups(), **named)
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
        return f"{_KINDS_JA.get(kind, 'パラメータ')} {name}を指定してください"
    return f"missing {kind} {name}"


def _bad_value(error: Any, lang: str) -> str:
    name = _param_name(error.param, error.param_hint)
    reading = _read(error.message, lang)
    if lang == "ja":
        return f"{name}の値が正しくありません: {reading}"
    return f"invalid value for {name}: {reading}"


def usage_message(error: Any, lang: str) -> str:
    """What is wrong, in `lang`, without Typer's English."""
    if isinstance(error, click_errors.MissingParameter):
        return _missing(error, lang)
    if isinstance(error, click_errors.BadParameter):
        return _bad_value(error, lang)
    if isinstance(error, click_errors.NoSuchOption):
        possible = sorted(getattr(error, "possibilities", None) or [])
        return _no_such("option", error.option_name, possible, lang)
    return _read(str(error.message), lang)


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
