"""Helpers of the issue #6 protection tests (real-time switch, Damage Cleanup, outbreak
prevention): an installed server with an enrolled client, and moving the fake clock into
each license state."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of

from cssec.core.clock import FakeClock
from cssec.core.license import grace_end
from cssec.server.models import Client

STATES = ("activated", "grace_period", "expired")
HEARTBEAT = "/api/v1/agent/heartbeat"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def set_day(clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))


def move_to_state(server: Server, clock: FakeClock, state: str) -> None:
    """Put the C/S Sec. license into `state` by moving the clock (activated: unchanged)."""
    slot = server.slot("CS")
    if state == "grace_period":
        set_day(clock, slot.expires_on + timedelta(days=1))
    elif state == "expired":
        set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1))


@dataclass
class Setup:
    server: Server
    token: str
    uid: str

    def agent(self, token: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.server.app, client=("127.0.0.1", 40000)),
            base_url="http://server.test",
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    def client_id(self, uid: str | None = None) -> int:
        with self.server.app.state.server.sessionmaker() as session:
            return session.scalars(select(Client.id).where(Client.uid == (uid or self.uid))).one()

    async def heartbeat(self, status: Any = "online", token: str | None = None) -> dict[str, Any]:
        async with self.agent(token) as agent:
            response = await agent.post(HEARTBEAT, json={"status": status})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def post_form(self, path: str, data: dict[str, Any], page: str = "/clients") -> Any:
        form = {"csrf_token": csrf_of((await self.server.client.get(page)).text), **data}
        return await self.server.client.post(path, data=form)


async def enroll(server: Server, hostname: str) -> tuple[str, str]:
    response = await server.client.post(
        "/api/v1/agent/enroll",
        json={"route": "autopcc", "hostname": hostname, "os": "Linux", "agent_version": "0.1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["client_token"], body["client_id"]


async def setup(
    servers: ServerFactory, desk: Desk, *, with_dcs: bool = True, hostname: str = "pc-01"
) -> Setup:
    contract = desk.contract(with_dcs=with_dcs)
    if with_dcs:  # registration fills both slots
        settings = await servers.install(registration_key=contract.registration_key)
    else:
        settings = await servers.install(activation_code=contract.codes["CS"])
    server = servers.open(settings)
    await server.login()
    token, uid = await enroll(server, hostname)
    return Setup(server=server, token=token, uid=uid)
