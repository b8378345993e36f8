"""The Web manager's language is each browser's choice: choosing English in one browser
never turns another browser's Japanese session to English, not even at its next login.
The click also records the account's default (its notice mails, and a browser that has
not chosen yet)."""

from __future__ import annotations

import httpx
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of

from cssec.server.models import User


def _lang_of(page: httpx.Response) -> str:
    return page.text.split('<html lang="', 1)[1].split('"', 1)[0]


async def _choose(client: httpx.AsyncClient, lang: str, path: str = "/dashboard") -> None:
    token = csrf_of((await client.get(path)).text)
    await client.post("/language", data={"lang": lang, "csrf_token": token, "next": path})


async def _login(server: Server, client: httpx.AsyncClient) -> None:
    other = Server(settings=server.settings, app=server.app, client=client)
    response = await other.login()
    assert response.status_code == 303


async def test_english_in_one_browser_leaves_the_other_japanese(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    first = server.client
    await _choose(first, "ja", "/login")
    await _login(server, first)
    assert _lang_of(await first.get("/dashboard")) == "ja"

    second = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app), base_url="http://server.test"
    )
    try:
        await _login(server, second)
        await _choose(second, "en")
        assert _lang_of(await second.get("/dashboard")) == "en"
    finally:
        await second.aclose()

    assert _lang_of(await first.get("/dashboard")) == "ja"
    # Signing in again in the first browser keeps its own choice.
    await first.post("/logout", data={"csrf_token": csrf_of((await first.get("/dashboard")).text)})
    await _login(server, first)
    page = await first.get("/dashboard")
    assert _lang_of(page) == "ja"
    assert "ダッシュボード" in page.text
    # The click is the account's default: the notice mails follow it.
    with server.app.state.server.sessionmaker() as session:
        user = session.get(User, 1)
        assert user is not None
        assert user.language == "en"


async def test_a_browser_that_never_chose_gets_the_account_default_at_login(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    await _choose(server.client, "en")
    fresh = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app), base_url="http://server.test"
    )
    try:
        await _login(server, fresh)
        assert _lang_of(await fresh.get("/dashboard")) == "en"
    finally:
        await fresh.aclose()
