"""Every Japanese text cssec ships follows docs/style-ja.md: the ja catalogs (server, vendor
console, portal) and every Japanese string constant in the sources (error `message_ja`,
the client's texts, event and notice messages, CLI help), f-strings included with their
placeholders standing in for the values.

Checked: no space before a particle after a Latin name, a code, a placeholder or a
bracket (「[今すぐアップデート]を」, not 「[今すぐアップデート] を」); no nested 「「 or （（
brackets; ユーザー, never ユーザ; no raw ISO timestamp (`2026-12-03T07:00:00Z`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import cssec

SRC = Path(cssec.__file__).parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PARTICLE = "(?:を|は|が|に|で|と|の|へ|も|や|から|まで|より)"
RULES: dict[str, re.Pattern[str]] = {
    "space before a particle": re.compile(r"[\]）」A-Za-z0-9.}%)] " + PARTICLE),
    "nested brackets": re.compile(r"「[^」]*「|（[^）]*（"),
    "ユーザ without ー": re.compile(r"ユーザ(?!ー)"),
    "raw ISO timestamp": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
}


def broken_rules(text: str) -> list[str]:
    return [name for name, rule in RULES.items() if rule.search(text)]


def _catalog_texts() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for po in sorted(SRC.glob("**/locale/ja/LC_MESSAGES/messages.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="ja")
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [(f"{po.relative_to(SRC)}: {message.id}", s) for s in strings if s]
    return found


def _text_of(node: ast.expr) -> str | None:
    """A string constant, an f-string (values as "{x}") or a `+` of them, as one text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{x}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text_of(node.left), _text_of(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else "{x}") + (right if right is not None else "{x}")
    return None


def _source_texts() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(SRC.glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
                text = _text_of(node)
                if text and JAPANESE.search(text):
                    found.append((f"{path.relative_to(SRC)}:{node.lineno}", text))
    return found


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rules_catch_what_they_name(rule: str) -> None:
    bad = {
        "space before a particle": "[今すぐアップデート] を押してください。",
        "nested brackets": "「有効期限 「確認済み」」",
        "ユーザ without ー": "ユーザ名を入力してください。",
        "raw ISO timestamp": "有効期限: 2026-12-03T07:00:00Z",
    }[rule]
    assert rule in broken_rules(bad)
    good = "[今すぐアップデート]を押してください。ユーザー名: 2026-12-03 16:00:00"
    assert broken_rules(good) == []


def test_the_japanese_catalogs_follow_the_style() -> None:
    texts = _catalog_texts()
    assert len(texts) > 300  # the server's, the console's and the portal's
    broken = [(where, broken_rules(text), text) for where, text in texts if broken_rules(text)]
    assert broken == [], broken


def test_the_japanese_texts_in_the_sources_follow_the_style() -> None:
    texts = _source_texts()
    assert any(where.startswith("client/messages.py") for where, _ in texts)
    assert any(where.startswith("core/errors.py") for where, _ in texts)
    broken = [(where, broken_rules(text), text) for where, text in texts if broken_rules(text)]
    assert broken == [], broken
