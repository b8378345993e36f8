"""Changing the Web manager password: from the page (current password, CSRF, argon2, other
browsers signed out) and with `cssec server admin password`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import select
from tests.helpers.server import PASSWORD, Desk, Server, ServerFactory, csrf_of
from typer.testing import CliRunner

from cssec.server import cli
from cssec.server.models import User

NEW = "a new long password"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _second_browser(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app), base_url="http://server.test"
    )


async def _log_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": csrf_of(page.text)},
    )


def _hash(server: Server) -> str:
    with server.app.state.server.sessionmaker() as session:
        user = session.scalars(select(User).where(User.username == "admin")).one()
        return str(user.password_hash)


async def _change(server: Server, current: str, new: str, confirm: str | None = None) -> str:
    token = await server.csrf("/admin/password")
    response = await server.client.post(
        "/admin/password",
        data={"current": current, "new": new, "confirm": confirm or new, "csrf_token": token},
    )
    assert response.status_code == 303
    return _text((await server.client.get(response.headers["location"])).text)


async def test_password_change_signs_out_other_browsers(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    page = await server.client.get("/admin/password")
    assert page.status_code == 200
    assert "パスワードの変更" in page.text
    assert 'href="/admin/password"' in page.text, "in the menu"
    before = _hash(server)
    async with _second_browser(server) as other:
        assert (await _log_in(other, PASSWORD)).status_code == 303
        assert (await other.get("/dashboard")).status_code == 200
        # Refusals change nothing: a wrong current password, a short or mismatched new one,
        # a missing CSRF token.
        assert "現在のパスワードが正しくありません" in await _change(server, "wrong", NEW)
        assert "8文字以上" in await _change(server, PASSWORD, "short")
        assert "8文字以上" in await _change(server, PASSWORD, NEW, confirm=NEW + "x")
        forged = await server.client.post(
            "/admin/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW}
        )
        assert forged.status_code == 303
        assert _hash(server) == before
        assert (await other.get("/dashboard")).status_code == 200
        # The change: this browser stays, the other is signed out.
        assert "パスワードを変更しました" in await _change(server, PASSWORD, NEW)
        assert _hash(server).startswith("$argon2")
        assert _hash(server) != before
        assert (await server.client.get("/dashboard")).status_code == 200
        assert (await other.get("/dashboard")).status_code == 303
        await _log_in(other, PASSWORD)
        assert (await other.get("/dashboard")).status_code == 303, "the old password is gone"
        await _log_in(other, NEW)
        assert (await other.get("/dashboard")).status_code == 200
    [event] = server.events("auth.password_changed")
    assert event.details["sessions_ended"] == 1
    assert NEW not in event.message_ja + event.message_en + str(event.details)


async def test_cli_sets_the_password(servers: ServerFactory, desk: Desk, tmp_path: Path) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    server = servers.open(settings)
    await server.login()
    new_file = tmp_path / "new.pw"
    new_file.write_text(NEW + "\n")
    runner = CliRunner()
    data = str(settings.data_dir)
    args = ["server", "admin", "password", "--data", data, "--password-file", str(new_file)]
    result = runner.invoke(cli.app, [*args[1:], "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Password of admin changed (1 sessions ended)." in result.output
    assert (await server.client.get("/dashboard")).status_code == 303
    assert (await server.login(password=NEW)).headers["location"] == "/dashboard"
    short = tmp_path / "short.pw"
    short.write_text("short\n")
    refused = runner.invoke(cli.app, [*args[1:-1], str(short), "--lang", "en"])
    assert refused.exit_code == 1
    assert "error: weak_password: " in refused.output
    unknown = runner.invoke(cli.app, [*args[1:], "--user", "nobody"])
    assert unknown.exit_code == 1
    assert "error: unknown_user: ユーザー「nobody」はありません。" in unknown.output
