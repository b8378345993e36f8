"""The portal's catalogs: every text its templates and routes show has a Japanese
translation, and the Japanese pages follow docs/style-ja.md on the points a test can see."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from cssec.vendor_service.portal import web
from cssec.vendor_service.webkit import KIT_TEMPLATES

SHARED = Path(web.__file__).parents[2] / "web" / "templates"
_TEMPLATE = re.compile(r"""_\(\s*(["'])((?:(?!\1).)*)\1""")
_PLURAL = re.compile(r'ngettext\(\s*"([^"]*)",\s*"([^"]*)"')
_CODE = re.compile(r'gettext\(\s*request,\s*((?:"[^"]*"\s*)+)')
_TITLES = re.compile(r"_TITLES = \{(.*?)\}", re.S)


def _used() -> set[str]:
    found: set[str] = {"Error"}
    kit = [*KIT_TEMPLATES.glob("*.html"), *SHARED.glob("*.html")]
    for template in [*web.HERE.glob("templates/*.html"), *kit]:
        text = template.read_text(encoding="utf-8")
        found |= {m.group(2) for m in _TEMPLATE.finditer(text)}
        found |= {m.group(1) for m in _PLURAL.finditer(text)}
    for module in web.HERE.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        found |= {"".join(re.findall(r'"([^"]*)"', m.group(1))) for m in _CODE.finditer(text)}
        for block in _TITLES.finditer(text):
            found |= set(re.findall(r':\s*"([^"]*)"', block.group(1)))
    return found


def test_every_text_has_a_japanese_translation() -> None:
    with (web.LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ja")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(_used() - translated)
    assert missing == []


def test_japanese_pages_have_no_space_before_particles(client: TestClient) -> None:
    html = client.get("/portal/").text
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"[A-Za-z.] [をにのがはでと]", text)
    assert "カスタマーポータルにサインイン" in text
