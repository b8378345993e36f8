"""Error pages of the Web manager: a browser gets a page in its language (404, 403, 500),
with the way back; the API and non-browser callers keep the JSON shape."""

from __future__ import annotations

import re

import httpx
from babel.messages.pofile import read_po
from tests.helpers.server import Desk, ServerFactory

from cssec.core.errors import Forbidden
from cssec.server.logs.export import SHEETS
from cssec.server.webmanager.error_pages import NOT_FOUND_TEXT, TITLES
from cssec.server.webmanager.templating import LOCALE_DIR

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_mistyped_url_is_a_page_in_both_languages(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    anonymous = await server.client.get("/no-such-page", headers=BROWSER)
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("text/html")
    assert "ページが見つかりません" in anonymous.text
    assert 'href="/login"' in anonymous.text
    await server.login()
    signed_in = await server.client.get("/logs/nothing", headers=BROWSER)
    assert signed_in.status_code == 404
    assert 'href="/dashboard"' in signed_in.text
    assert 'class="sidenav"' in signed_in.text, "the menu stays for a signed-in reader"
    english = await server.client.get("/logs/nothing", headers={**BROWSER, "Accept-Language": "en"})
    assert "Page not found" in english.text
    assert "Check the address" in english.text
    # No HTML for the API, nor for a caller that does not ask for it.
    api = await server.client.get("/api/v1/nothing", headers=BROWSER)
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    plain = await server.client.get("/no-such-page")
    assert plain.json() == {"code": "not_found", "message": "見つかりません。"}


async def test_refusal_and_fault_are_pages(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])

    async def boom() -> None:
        raise RuntimeError("a bug")

    server.app.add_api_route("/boom", boom)
    server.app.add_api_route("/api/v1/boom", boom)
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
        fault = await client.get("/boom", headers={**BROWSER, "Accept-Language": "en"})
        assert fault.status_code == 500
        assert "Something went wrong" in fault.text
        assert "C/S Sec. server ran into a problem" in fault.text
        assert "a bug" not in fault.text
        japanese = await client.get("/boom", headers=BROWSER)
        assert "問題が発生しました" in japanese.text
        api = await client.get("/api/v1/boom", headers=BROWSER)
        assert api.status_code == 500
        assert api.json()["code"] == "internal_error"
    await server.login()

    async def forbidden() -> None:
        raise Forbidden()

    server.app.add_api_route("/forbidden", forbidden)
    refused = await server.client.get("/forbidden", headers={**BROWSER, "Accept-Language": "en"})
    assert refused.status_code == 403
    assert "Not allowed" in _text(refused.text)


def test_error_page_words_and_csv_headers_are_in_the_catalogs() -> None:
    wanted = {*TITLES.values(), NOT_FOUND_TEXT, "Error"}
    for sheet in SHEETS.values():
        wanted |= set(sheet.headers)
    for lang in ("ja", "en"):
        with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        ids = {m.id for m in catalog if m.id}
        assert sorted(wanted - ids) == [], lang
        if lang == "ja":
            assert all(catalog[i].string for i in wanted), "every one translated"
