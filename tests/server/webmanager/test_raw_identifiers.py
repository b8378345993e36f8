"""What an administrator reads on the Web manager and in its CSV exports are words (issue
23, finding 8): every page a login reaches and every export it links, in both languages,
walked with the patterns of tests/e2e/raw_identifiers.py."""

from __future__ import annotations

import pytest
from tests.e2e.raw_identifiers import walk_async
from tests.helpers.server import Desk, ServerFactory

from cssec.web.i18n import LANG_COOKIE


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_web_manager_pages_and_exports_read_as_words(
    servers: ServerFactory, desk: Desk, lang: str
) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    server.client.cookies.set(LANG_COOKIE, lang)
    await server.login()
    desk.renew(contract.registration_key)
    await server.check_form()  # a renewal seen online: both slots, the log, the banners
    found = await walk_async(server.client.get, ["/dashboard"], prefix="/")
    visited = found.pop("(visited)")
    assert {"/admin/licenses", "/logs/system-events", "/logs/system-events.csv"} <= set(visited)
    assert found == {}, f"raw identifiers ({lang}): {found}"
