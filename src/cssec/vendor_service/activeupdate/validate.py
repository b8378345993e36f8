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


def _refuse(component: Component, detail: str) -> InvalidComponentFile:
    return InvalidComponentFile(
        component=component.value,
        component_ja=component.label("ja"),
        component_en=component.label("en"),
        detail=detail,
    )


def _check_yara(component: Component, data: bytes) -> None:
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(component, "not UTF-8 text") from None
    if "\x00" in source:
        raise _refuse(component, "contains NUL bytes")
    try:
        rules = yara.compile(source=source, includes=False)
    except yara.SyntaxError as exc:
        raise _refuse(component, f"YARA: {exc}") from None
    except yara.Error as exc:
        raise _refuse(component, f"YARA: {exc}") from None
    if not any(True for _rule in rules):
        raise _refuse(component, "YARA: the file defines no rule")


def _check_json(component: Component, check: FormatCheck[Any]) -> None:
    if not check.ok:
        detail = f"{check.error}: {check.detail}" if check.detail else str(check.error)
        raise _refuse(component, detail)


def validate_component_file(component: Component, data: bytes) -> None:
    """Raise InvalidComponentFile (with a reason) unless `data` works as `component`."""
    if not data:
        raise _refuse(component, "the file is empty")
    if len(data) > MAX_COMPONENT_BYTES:
        raise _refuse(component, f"larger than {MAX_COMPONENT_BYTES} bytes")
    if component in YARA_COMPONENTS:
        _check_yara(component, data)
    elif component is Component.DAMAGE_CLEANUP_TEMPLATE:
        _check_json(component, parse_cleanup_template(data))
    elif component is Component.SCAN_ENGINE:
        _check_json(component, parse_scan_engine(data))
    else:  # pragma: no cover - a fifth component needs its own check
        raise _refuse(component, "no validator for this component")
