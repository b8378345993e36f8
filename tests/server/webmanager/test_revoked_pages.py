"""A revoked code is visible on every page: a badge in the top bar, a banner saying what
stopped and what to do, the 失効 / Revoked state on the license page."""

from __future__ import annotations

import pytest
from tests.helpers.server import Desk, ServerFactory, csrf_of

PAGES = ["/dashboard", "/admin/licenses", "/clients", "/updates/components", "/logs/virus"]


@pytest.mark.parametrize(("lang", "label", "title"), [
    ("ja", "ライセンス失効", "失効しています"),
    ("en", "License revoked", "has been revoked"),
])  # fmt: skip
async def test_revoked_badge_and_banner_on_every_page(
    servers: ServerFactory, desk: Desk, lang: str, label: str, title: str
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    page = await server.client.get("/dashboard")
    assert 'data-testid="revoked-badge"' not in page.text
    desk.revoke(contract.codes["CS"])
    assert (await server.api("POST", "/api/v1/licenses/check-online")).status_code == 403
    token = csrf_of((await server.client.get("/dashboard")).text)
    await server.client.post("/language", data={"lang": lang, "csrf_token": token})
    for path in PAGES:
        page = await server.client.get(path)
        assert page.status_code == 200, path
        assert 'data-testid="revoked-badge"' in page.text, path
        assert label in page.text, path
        assert 'data-banner="license-revoked"' in page.text, path
        assert title in page.text, path
    licenses = (await server.client.get("/admin/licenses")).text
    assert 'data-state="revoked"' in licenses
