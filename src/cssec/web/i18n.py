"""Babel message catalogs, Japanese by default and English second.

Source strings (msgids) are English; each app ships `locale/{ja,en}/LC_MESSAGES/messages.po`.
Catalogs are compiled in memory from the .po files at start-up, so an editable install
needs no build step. The language of the current request lives in a context variable
that the Jinja globals `_` and `ngettext` read.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_COOKIE = "cssec_lang"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


class Catalogs:
    def __init__(self, locale_dir: Path) -> None:
        self._translations: dict[str, Translations] = {}
        for lang in LANGUAGES:
            po_path = locale_dir / lang / "LC_MESSAGES" / "messages.po"
            if not po_path.exists():
                self._translations[lang] = Translations()
                continue
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            self._translations[lang] = Translations(buf)

    def gettext(self, message: str, **params: Any) -> str:
        text = self._translations[current_language.get()].ugettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = self._translations[current_language.get()].ungettext(singular, plural, n)
        return text % {"num": n, **params}


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The user's explicit choice first, then the browser's Accept-Language, then Japanese."""
    if preferred in LANGUAGES:
        return preferred
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")):
            fields = part.strip().split(";")
            tag = fields[0].strip().lower()
            quality = 1.0
            for param in fields[1:]:
                name, _, value = param.strip().partition("=")
                if name == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            ranked.append((-quality, index, tag))
        for neg_quality, _index, tag in sorted(ranked):
            if neg_quality >= 0:
                continue
            primary = tag.split("-")[0]
            if primary in LANGUAGES:
                return primary
    return DEFAULT_LANGUAGE
