"""A client's host name with a bidirectional override or a control character is refused at
enrollment, by name of the field, before anything (the connection log included) stores it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, ServerFactory

from cssec.core.names import InvalidName
from cssec.server.clients.enrollment import Route, issue_install_token
from cssec.server.models import Client, ConnectionLogEntry, InstallToken

ENROLL = "/api/v1/agent/enroll"


@pytest.mark.parametrize("hostname", ["pc\u202e10-gnp", "pc\u2066-01", "pc\x00-01", "pc\x9b01"])
async def test_enrollment_refuses_a_spoofing_host_name(
    servers: ServerFactory, desk: Desk, hostname: str
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    body = {"route": "autopcc", "hostname": hostname, "os": "Linux", "agent_version": "0.1.0"}
    ja = await server.client.post(ENROLL, json=body)
    en = await server.client.post(ENROLL, json=body, headers={"Accept-Language": "en"})
    assert ja.status_code == en.status_code == 422
    assert ja.json()["code"] == en.json()["code"] == "invalid_name"
    assert ja.json()["field"] == "hostname"
    assert "ホスト名に使用できない文字" in ja.json()["message"]
    assert "The host name contains a character that is not allowed" in en.json()["message"]
    with server.app.state.server.sessionmaker() as session:
        assert list(session.scalars(select(Client))) == []
        assert list(session.scalars(select(ConnectionLogEntry))) == []


async def test_a_remote_install_token_refuses_one_too(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    ctx = server.app.state.server
    with ctx.sessionmaker() as session:
        with pytest.raises(InvalidName) as refused:
            issue_install_token(
                session,
                route=Route.REMOTE,
                hostname="pc\u202e01",
                now=ctx.clock.now(),
                lifetime=timedelta(hours=1),
                actor="admin",
            )
        assert refused.value.fields["field"] == "hostname"
        assert list(session.scalars(select(InstallToken))) == []
