"""The Web manager's login form under a password-guessing attack on `admin`."""

from __future__ import annotations

from datetime import timedelta

import httpx
from tests.helpers.server import PASSWORD, Desk, ServerFactory, csrf_of

from cssec.core.clock import FakeClock


async def _login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": csrf_of(page.text)},
    )


async def test_guesses_from_one_address_never_lock_the_admin_out_from_another(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    """Six wrong passwords for admin from 127.0.0.2: admin signs in from 127.0.0.1 with the
    right password; 127.0.0.2 is refused, even with the right password, until its back-off
    (15 minutes) ends."""
    server = await servers.start(activation_code=desk.contract().codes["CS"])

    def from_address(host: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=server.app, client=(host, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://server.test")

    async with from_address("127.0.0.2") as attacker, from_address("127.0.0.1") as admin:
        for i in range(6):
            assert (await _login(attacker, f"guess {i}")).headers["location"].startswith("/login")
        signed_in = await _login(admin, PASSWORD)
        assert signed_in.headers["location"] == "/dashboard"
        assert (await admin.get("/dashboard")).status_code == 200

        refused = await _login(attacker, PASSWORD)
        assert refused.headers["location"].startswith("/login")
        page = await attacker.get(refused.headers["location"])
        assert "この接続元からのログインを一時的にロックしています" in page.text
        assert (await attacker.get("/dashboard")).status_code == 303
        assert len(server.events("auth.account_locked")) == 1
        assert "127.0.0.2" in server.events("auth.account_locked")[0].message_ja

        clock.advance(timedelta(minutes=16))
        assert (await _login(attacker, PASSWORD)).headers["location"] == "/dashboard"


async def test_the_lockout_survives_a_restart_of_the_server(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    """The counts are in the server's database: restarting the Web manager (a new app on
    the same data directory) does not forgive the guesses."""
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    first = servers.open(settings)
    transport = httpx.ASGITransport(app=first.app, client=("127.0.0.2", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as guesser:
        for i in range(5):
            assert (await _login(guesser, f"guess {i}")).headers["location"].startswith("/login")
    first.app.state.server.engine.dispose()

    restarted = servers.open(settings)
    transport = httpx.ASGITransport(app=restarted.app, client=("127.0.0.2", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as guesser:
        refused = await _login(guesser, PASSWORD)
        assert refused.headers["location"].startswith("/login"), "still locked after restart"
        clock.advance(timedelta(minutes=16))
        assert (await _login(guesser, PASSWORD)).headers["location"] == "/dashboard"
