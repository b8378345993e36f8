"""The administrator's pilot group (issue 24) on the real server with the real vendor: new
components reach pilot clients first; everyone else gets them after the delay or on the
administrator's approval; a pilot client's failures roll the set back by themselves, with
one event and one mail, and a non-pilot client never receives the bad set."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers.protection import Setup, enroll, setup
from tests.helpers.server import Desk, Server, ServerFactory, SyncBridge
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import current_versions, publish_virus_pattern_v2

from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.tuf_client import holds_root as client_holds_root
from cssec.client.updater import update_components
from cssec.core.clock import FakeClock
from cssec.core.components import verify_manifest
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey
from cssec.server.models import Client, MailNotice, SystemEvent
from cssec.server.updates.pilot import configure, set_pilot

AGENT = "/api/v1/agent"


async def _start(servers: ServerFactory, desk: Desk) -> tuple[Setup, str, str]:
    """A server with a pilot client (pc-pilot) and another (pc-other), pilot mode on."""
    ready = await setup(servers, desk, with_dcs=False, hostname="pc-pilot")
    other_token, _ = await enroll(ready.server, "pc-other")
    response = await ready.post_form(
        "/updates/components/pilot", {"enabled": "on", "promotion": "delay", "hours": "24"},
        page="/updates/components",
    )  # fmt: skip
    assert response.status_code == 303, response.text
    response = await ready.post_form(
        f"/clients/{ready.client_id()}/pilot", {"pilot": "on"}, page="/clients"
    )
    assert response.status_code == 303, response.text
    page = (await ready.server.client.get("/clients")).text
    assert page.count('data-pilot="on"') == 1
    assert page.count('data-pilot="off"') == 1
    return ready, ready.token, other_token


async def _pattern(ready: Setup, token: str) -> int:
    """The virus pattern version of the manifest this client is served (verified)."""
    async with ready.agent(token) as agent:
        keys_body = (await agent.get(f"{AGENT}/vendor-keys")).json()
        envelope = (await agent.get(f"{AGENT}/manifest")).json()
        manifest = verify_manifest(
            envelope, {k.kid: k for k in map(VerifyingKey.from_jwk, keys_body["keys"])}
        ).value
        assert manifest is not None
        version = manifest.components[Component.VIRUS_PATTERN]
        got = await agent.get(f"{AGENT}/files/virus_pattern/{version.sha256}")
        assert got.status_code == 200, "the served set's files are served"
        return version.version


async def _report(ready: Setup, token: str, body: dict[str, Any]) -> None:
    async with ready.agent(token) as agent:
        response = await agent.post(f"{AGENT}/update-result", json=body)
    assert response.status_code == 204, response.text


def _events(ready: Setup, kind: str) -> list[SystemEvent]:
    with ready.server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(SystemEvent).where(SystemEvent.kind == kind)))


async def test_pilot_first_then_everyone_after_the_delay(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    ready, pilot, other = await _start(servers, desk)
    publish_virus_pattern_v2(desk)
    await ready.server.app.state.component_poller.update_now(actor="t")
    assert current_versions(ready.server)[Component.VIRUS_PATTERN] == 2
    assert await _pattern(ready, pilot) == 2
    assert await _pattern(ready, other) == 1, "not a pilot: the previous set"
    page = (await ready.server.client.get("/updates/components")).text
    assert "パイロット" in page

    clock.advance(timedelta(hours=23))
    await ready.server.app.state.component_poller.tick()
    assert await _pattern(ready, other) == 1, "the delay has not passed"
    clock.advance(timedelta(hours=1, minutes=1))
    await ready.server.app.state.component_poller.tick()
    assert await _pattern(ready, other) == 2
    assert len(_events(ready, "components.pilot_promoted")) == 1


async def test_approval_promotes_at_once(servers: ServerFactory, desk: Desk) -> None:
    ready, _pilot, other = await _start(servers, desk)
    publish_virus_pattern_v2(desk)
    await ready.server.app.state.component_poller.update_now(actor="t")
    assert await _pattern(ready, other) == 1
    response = await ready.post_form(
        "/updates/components/pilot/approve", {}, page="/updates/components"
    )
    assert response.status_code == 303, response.text
    assert await _pattern(ready, other) == 2
    assert len(_events(ready, "components.pilot_promoted")) == 1


async def test_a_pilot_failure_rolls_back_and_others_never_get_it(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    ready, pilot, other = await _start(servers, desk)
    publish_virus_pattern_v2(desk)
    await ready.server.app.state.component_poller.update_now(actor="t")
    assert await _pattern(ready, pilot) == 2
    served_to_other = [await _pattern(ready, other)]
    entry = {
        "component": "virus_pattern", "version": 2, "clients": 1, "loaded": 0,
        "load_failures": 1, "scans": 0, "scan_errors": 0, "crashes": 0, "detections": 0,
        "quarantines": 0, "hours": 1,
    }  # fmt: skip
    async with ready.agent(pilot) as agent:
        response = await agent.post(
            f"{AGENT}/heartbeat",
            json={"status": {"agent_version": "t", "component_health": [entry]}},
        )
    assert response.status_code == 200, response.text
    served_to_other.append(await _pattern(ready, other))
    clock.advance(timedelta(minutes=1))
    await ready.server.app.state.component_poller.tick()
    assert current_versions(ready.server)[Component.VIRUS_PATTERN] == 1, "rolled back"
    assert await _pattern(ready, pilot) == 1, "the pilot gets the previous set again"
    served_to_other.append(await _pattern(ready, other))
    assert served_to_other == [1, 1, 1]
    events = _events(ready, "components.pilot_rolled_back")
    assert len(events) == 1
    assert "パイロット" in events[0].message_ja
    assert "Pilot" in events[0].message_en
    with ready.server.app.state.server.sessionmaker() as session:
        kinds = list(session.scalars(select(MailNotice.kind)))
    assert kinds.count("components.pilot_rolled_back") == 1
    # The hourly poll does not apply the rolled-back set again, and nothing repeats.
    clock.advance(timedelta(hours=2))
    await ready.server.app.state.component_poller.tick()
    assert current_versions(ready.server)[Component.VIRUS_PATTERN] == 1
    assert await _pattern(ready, other) == 1
    assert len(_events(ready, "components.pilot_rolled_back")) == 1


async def test_two_failed_pilot_updates_roll_back(servers: ServerFactory, desk: Desk) -> None:
    ready, pilot, _other = await _start(servers, desk)
    publish_virus_pattern_v2(desk)
    await ready.server.app.state.component_poller.update_now(actor="t")
    failed = {"result": "failed", "versions": {"virus_pattern": 2}, "message": "load error"}
    await _report(ready, pilot, failed)
    assert current_versions(ready.server)[Component.VIRUS_PATTERN] == 2, "one may be a full disk"
    await _report(ready, pilot, failed)
    assert current_versions(ready.server)[Component.VIRUS_PATTERN] == 1
    assert len(_events(ready, "components.pilot_rolled_back")) == 1


async def test_without_pilot_mode_every_client_gets_the_new_set(
    servers: ServerFactory, desk: Desk
) -> None:
    ready = await setup(servers, desk, with_dcs=False, hostname="pc-01")
    publish_virus_pattern_v2(desk)
    await ready.server.app.state.component_poller.update_now(actor="t")
    assert await _pattern(ready, ready.token) == 2


async def _server(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    tmp_path: Path,
    *,
    tuf: bool,
    dcs: bool = False,
) -> Server:
    """A server on the desk's C/S Sec. code, holding the vendor's TUF root when `tuf`; with
    `dcs`, registered with a Damage Cleanup Services license too, so that it holds (and
    its clients take) the template: the first poll brings it with the DCS code."""
    if tuf:
        install_tuf_root(desk.vendor, tmp_path / "root-keys")
    if dcs:
        key = desk.contract(with_dcs=True).registration_key
        server = await servers.start(registration_key=key)
    else:
        server = await servers.start(activation_code=desk.contract().codes["CS"])
    if tuf or dcs:
        clock.advance(timedelta(hours=1))
        await server.app.state.component_poller.run_update_if_due()
    await server.login()
    return server


def _pilot_mode_with(server: Server, state: ClientState, clock: FakeClock) -> None:
    """Pilot mode on (promotion on approval only), with this installed client the pilot."""
    with server.app.state.server.sessionmaker() as session, session.begin():
        configure(session, enabled=True, promote_hours=None, now=clock.now())
        uid = state.load_config().client_id
        row = session.scalars(select(Client.id).where(Client.uid == uid)).one()
        set_pilot(session, row, on=True)


@pytest.mark.parametrize("tuf", [False, True], ids=["manifest", "tuf"])
async def test_real_clients_pilot_takes_the_new_set_the_other_keeps_the_old(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, tuf: bool
) -> None:
    """cssec.client's own install and update code against the server, through the bare
    manifest and through the server's TUF mirror (which withholds the set in pilot from a
    non-pilot client; the client then takes the set the server hands it)."""
    server = await _server(servers, desk, clock, tmp_path, tuf=tuf)
    states = {name: ClientState(tmp_path / name) for name in ("pilot", "other")}
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        transport = SyncBridge(http)
        for state in states.values():
            done = install_client(
                state, server_url="http://server.test", route="autopcc", install_token=None,
                clock=clock, lang="en", transport=transport,
            )  # fmt: skip
            assert done.update is not None
            assert done.update.versions[Component.VIRUS_PATTERN] == 1
            assert client_holds_root(state.root) is tuf
        _pilot_mode_with(server, states["pilot"], clock)
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")
        got = {}
        for name, state in states.items():
            with agent_for(state.load_config(), lang="en", transport=transport) as agent:
                got[name] = update_components(state, agent, clock=clock, lang="en").versions
        assert got["pilot"][Component.VIRUS_PATTERN] == 2
        assert got["other"][Component.VIRUS_PATTERN] == 1, "not a pilot: keeps the old set"
        assert await approve_now(server)
        with agent_for(states["other"].load_config(), lang="en", transport=transport) as agent:
            after = update_components(states["other"], agent, clock=clock, lang="en").versions
        assert after[Component.VIRUS_PATTERN] == 2


async def approve_now(server: Server) -> bool:
    approved: bool = await server.app.state.component_poller.approve_pilot(actor="admin")
    return approved


@pytest.mark.parametrize("tuf", [False, True], ids=["manifest", "tuf"])
async def test_real_pilot_client_steps_back_after_the_pilot_rollback(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path, tuf: bool
) -> None:
    """The gap of the last round: a pilot PC that installed the bad set goes back with the
    server (its own update code, through the manifest and through the server's TUF mirror,
    which still names the bad set as the newest), and the Web manager's client update log
    says so in the reader's language."""
    server = await _server(servers, desk, clock, tmp_path, tuf=tuf, dcs=True)
    state = ClientState(tmp_path / "pilot")
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        transport = SyncBridge(http)
        install_client(
            state, server_url="http://server.test", route="autopcc", install_token=None,
            clock=clock, lang="en", transport=transport,
        )  # fmt: skip
        _pilot_mode_with(server, state, clock)
        publish_virus_pattern_v2(desk)
        await server.app.state.component_poller.update_now(actor="t")

        def update() -> Any:
            with agent_for(state.load_config(), lang="ja", transport=transport) as agent:
                return update_components(state, agent, clock=clock, lang="ja")

        assert update().versions[Component.VIRUS_PATTERN] == 2
        failed = {"result": "failed", "versions": {"virus_pattern": 2}, "message": "load error"}
        for _ in range(2):
            assert http.post(
                f"{AGENT}/update-result", json=failed,
                headers={"Authorization": f"Bearer {state.load_config().client_token}"},
            ).status_code == 204  # fmt: skip
        assert current_versions(server)[Component.VIRUS_PATTERN] == 1, "the pilot rolled back"
        outcome = update()
        assert outcome.stepped_back
        assert outcome.changes == {Component.VIRUS_PATTERN: (2, 1)}
        assert state.load_installed().versions()[Component.VIRUS_PATTERN] == 1
        assert update().versions[Component.VIRUS_PATTERN] == 1, "and stays there"
    page = (await server.client.get("/logs/updates/client")).text
    assert "サーバがコンポーネントを戻したため、以前のバージョンに戻しました" in page


async def test_a_report_does_not_wait_for_an_update_when_nothing_is_in_pilot(
    servers: ServerFactory, desk: Desk
) -> None:
    """Client reports arrive all the time; only while a set is in pilot may one start a
    rollback, so only then does it queue behind an update holding the poller's lock."""
    ready, pilot, _other = await _start(servers, desk)
    poller = ready.server.app.state.component_poller
    async with poller._lock:  # an update from the vendor in progress
        done = {"result": "up_to_date", "versions": {"virus_pattern": 1}, "message": "-"}
        await asyncio.wait_for(_report(ready, pilot, done), timeout=10)
