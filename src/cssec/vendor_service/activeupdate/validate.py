"""Is a file publishable as its component? The same checks a client makes before use.

Patterns are YARA rule sources: UTF-8, compiled by yara-python with `include` disabled
(a rule file must never make the compiler read other files) and holding at least one rule.
The template and the engine configuration go through `core.components`' parsers.
"""

from __future__ import annotations

from typing import Any

import yara

from cssec.core.components import (
    MAX_COMPONENT_BYTES,
    FormatCheck,
    parse_cleanup_template,
    parse_scan_engine,
)
from cssec.core.policy import Component
from cssec.vendor_service.errors import InvalidComponentFile, UnknownComponent

YARA_COMPONENTS = frozenset({Component.VIRUS_PATTERN, Component.SPYWARE_PATTERN})


def parse_component_name(name: str) -> Component:
    """A component by its name ("virus_pattern"; hyphens and case forgiven)."""
    normalised = name.strip().lower().replace("-", "_")
    try:
        return Component(normalised)
    except ValueError:
        raise UnknownComponent(component=name) from None


def _refuse(component: Component, ja: str, en: str) -> InvalidComponentFile:
    """Why the file cannot be published, in both languages (a tool's own words, such as
    YARA's compiler message, are quoted as they are)."""
    return InvalidComponentFile(
        component=component.value,
        component_ja=component.label("ja"),
        component_en=component.label("en"),
        detail_ja=ja,
        detail_en=en,
    )


_FORMAT_ERRORS = {
    "not_json": ("JSONとして読めません", "not JSON"),
    "not_an_object": ("JSONのオブジェクトではありません", "not a JSON object"),
    "unsupported_format": ("対応していない形式番号です", "an unsupported format number"),
    "wrong_kind": ("別の種類のファイルです", "a file of another kind"),
    "missing_field": ("必要な項目がありません", "a field is missing"),
    "bad_field": ("項目の値が正しくありません", "a field has a wrong value"),
}


def _check_yara(component: Component, data: bytes) -> None:
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(component, "UTF-8のテキストではありません", "not UTF-8 text") from None
    if "\x00" in source:
        raise _refuse(component, "NULバイトを含んでいます", "contains NUL bytes")
    try:
        rules = yara.compile(source=source, includes=False)
    except yara.Error as exc:  # yara.SyntaxError included
        raise _refuse(component, f"YARAのコンパイルエラー「{exc}」", f"YARA: {exc}") from None
    if not any(True for _rule in rules):
        ja, en = "ルールが1つも定義されていません", "YARA: the file defines no rule"
        raise _refuse(component, ja, en)


def _check_json(component: Component, check: FormatCheck[Any]) -> None:
    if not check.ok:
        ja, en = _FORMAT_ERRORS.get(str(check.error), ("形式が正しくありません", "malformed"))
        where = f"「{check.detail}」" if check.detail else ""
        raise _refuse(component, ja + where, f"{en}: {check.detail}" if check.detail else en)


def validate_component_file(component: Component, data: bytes) -> None:
    """Raise InvalidComponentFile (with a reason) unless `data` works as `component`."""
    if not data:
        raise _refuse(component, "ファイルが空です", "the file is empty")
    if len(data) > MAX_COMPONENT_BYTES:
        raise _refuse(
            component,
            f"{MAX_COMPONENT_BYTES}バイトを超えています",
            f"larger than {MAX_COMPONENT_BYTES} bytes",
        )
    if component in YARA_COMPONENTS:
        _check_yara(component, data)
    elif component is Component.DAMAGE_CLEANUP_TEMPLATE:
        _check_json(component, parse_cleanup_template(data))
    elif component is Component.SCAN_ENGINE:
        _check_json(component, parse_scan_engine(data))
    else:  # pragma: no cover - a fifth component needs its own check
        raise _refuse(component, "検証方法がありません", "no validator for this component")
