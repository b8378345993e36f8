"""Japanese first and complete: every UI string of the Web manager has a translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from cssec.server.logs.export import SHEETS
from cssec.server.webmanager.error_pages import NOT_FOUND_TEXT, TITLES
from cssec.server.webmanager.nav import NAV, NavItem
from cssec.server.webmanager.templating import HERE, LOCALE_DIR
from cssec.web.pages import SHARED_TEMPLATES


def _msgids_in_templates() -> set[str]:
    found: set[str] = set()
    for path in [*(HERE / "templates").glob("*.html"), *SHARED_TEMPLATES.glob("*.html")]:
        found |= set(re.findall(r"""_\(\s*["']([^"']+)["']""", path.read_text("utf-8")))
    return found


def _nav_labels(items: list[NavItem]) -> set[str]:
    labels: set[str] = set()
    for item in items:
        labels.add(item.label)
        labels |= _nav_labels(item.children)
    return labels


def _catalog(lang: str) -> dict[str, str]:
    path: Path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def _msgids_in_python() -> set[str]:
    """What pages translate from Python: error page titles, CSV headers."""
    found = {*TITLES.values(), NOT_FOUND_TEXT, "Error"}
    for sheet in SHEETS.values():
        found |= set(sheet.headers)
    return found


def test_every_msgid_is_translated_to_japanese() -> None:
    wanted = _msgids_in_templates() | _nav_labels(NAV) | _msgids_in_python()
    ja = _catalog("ja")
    missing = sorted(m for m in wanted if not ja.get(m))
    assert missing == []
    assert set(_catalog("en")) == set(ja), "en.po lists the same msgids"
    unused = sorted(set(ja) - wanted)
    assert unused == []


def test_placeholders_survive_translation() -> None:
    for msgid, msgstr in _catalog("ja").items():
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(
            re.findall(r"%\(\w+\)s", msgstr)
        ), msgid
