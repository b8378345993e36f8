"""Every console string goes through the catalog, and Japanese (the default) is complete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

import cssec.vendor_service.console as console_pkg
from cssec.vendor_service.console.web import LOCALE_DIR
from cssec.vendor_service.webkit import KIT_TEMPLATES
from cssec.web.pages import SHARED_TEMPLATES

CONSOLE = Path(console_pkg.__file__).parent


def _used_msgids() -> set[str]:
    """msgids in the console's Python (`gettext(request, "…")`) and templates (`_`, `ngettext`),
    its own and the page kit's."""
    found: set[str] = set()
    for path in sorted(CONSOLE.glob("*.py")):
        with path.open("rb") as fh:
            for _line, message, _comments, _context in extract(
                "python", fh, keywords={"gettext": (2,), "_": None}
            ):
                found.add(message if isinstance(message, str) else message[0])
    templates = [
        *(CONSOLE / "templates").glob("*.html"),
        *KIT_TEMPLATES.glob("*.html"),
        *SHARED_TEMPLATES.glob("*.html"),
    ]
    for path in sorted(templates):
        with path.open("rb") as fh:
            for _line, message, _comments, _context in extract(
                "jinja2.ext:babel_extract", fh, keywords={"_": None, "ngettext": (1, 2)}
            ):
                found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str) -> dict[str, object]:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog if m.id}


def test_every_console_msgid_has_a_japanese_translation() -> None:
    used = _used_msgids()
    assert len(used) > 100  # the extraction really found the templates' strings
    ja = _catalog("ja")
    missing = sorted(m for m in used if m not in ja)
    assert missing == [], "msgids missing from ja messages.po"
    empty = sorted(
        m
        for m in used
        if not (ja[m] if isinstance(ja[m], str) else all(ja[m]))  # type: ignore[arg-type]
    )
    assert empty == [], "msgids with an empty Japanese translation"
    en = _catalog("en")
    assert sorted(m for m in used if m not in en) == []


def test_english_page_when_asked(make_client: Callable[..., TestClient]) -> None:
    client = make_client(None, **{"Accept-Language": "en-US,en;q=0.9"})
    page = client.get("/console/login")
    assert "Log in to the support desk" in page.text
    assert '<html lang="en">' in page.text
    japanese = client.get("/console/login", headers={"Accept-Language": "ja"})
    assert "法人お問合せ窓口にログイン" in japanese.text
