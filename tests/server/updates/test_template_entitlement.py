"""The Damage Cleanup template follows the Damage Cleanup Services license, against a real
in-process vendor: a C/S Sec.-only site updates its patterns and never asks for the
template (nor is it counted as a failure), a C/S Sec. + DCS site gets both, with its DCS
code, and a site whose DCS code the vendor revoked keeps its template and updates the rest."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport
from tests.helpers.updates import SEED, current_versions, publish_virus_pattern_v2

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server.models import ServerUpdateLog
from cssec.vendor_service.activeupdate.services import current_manifest, publish_component

TEMPLATE = Component.DAMAGE_CLEANUP_TEMPLATE


def publish_template_v2(desk: Desk) -> str:
    template = json.loads((SEED / "damage_cleanup_template.json").read_bytes())
    template["rules"].append({"threat": "Demo_worm", "action": "delete"})
    with desk.vendor.session() as session:
        publish_component(session, TEMPLATE.value, json.dumps(template).encode(), actor="test")
        sha: str = current_manifest(session)["statement"]["components"][TEMPLATE.value]["sha256"]
    return sha


def template_dir_versions(server: Server) -> list[str]:
    root = server.settings.data_dir / "components" / TEMPLATE.value
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def last_log(server: Server) -> ServerUpdateLog:
    with server.app.state.server.sessionmaker() as session:
        row = session.scalars(select(ServerUpdateLog).order_by(ServerUpdateLog.id.desc())).first()
    assert row is not None
    return row


def asked_for(network: SwitchableTransport, sha: str) -> bool:
    return any(sha in request for request in network.requests)


async def poll(server: Server, clock: FakeClock) -> object:
    clock.advance(timedelta(hours=1))
    return await server.app.state.component_poller.run_update_if_due()


async def test_a_cs_only_site_updates_its_patterns_but_not_the_template(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    assert template_dir_versions(server) == [], "the install's C/S Sec. code: no template"
    publish_virus_pattern_v2(desk)
    new_template = publish_template_v2(desk)
    outcome = await poll(server, clock)
    assert outcome.result == "success"  # type: ignore[attr-defined]
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}  # type: ignore[attr-defined]
    assert current_versions(server)[Component.VIRUS_PATTERN] == 2
    assert not asked_for(network, new_template), "the template is not even asked for"
    assert template_dir_versions(server) == []
    row = last_log(server)
    assert (row.result, row.cause) == ("success", None)
    assert row.message_ja == (
        "コンポーネントをアップデートしました: ウイルスパターンファイル 1 → 2。"
        "ウイルス感染復旧テンプレートの新しいバージョンは、ウイルス感染復旧サービスの"
        "ライセンスが有効でないためダウンロードしていません。"
    )
    assert row.message_en == (
        "Components updated: virus pattern file 1 → 2. The new damage cleanup template was "
        "not downloaded: no live Damage Cleanup Services license."
    )
    assert TEMPLATE.value not in (row.versions or {})


async def test_a_cs_and_dcs_site_gets_the_template_with_its_dcs_code(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    assert template_dir_versions(server) == ["1"]  # the install brought it, with the DCS code
    first = await poll(server, clock)
    assert first.result == "up_to_date"  # type: ignore[attr-defined]
    publish_virus_pattern_v2(desk)
    new_template = publish_template_v2(desk)
    outcome = await poll(server, clock)
    assert outcome.changes == {  # type: ignore[attr-defined]
        Component.VIRUS_PATTERN: (1, 2),
        TEMPLATE: (1, 2),
    }
    assert current_versions(server)[TEMPLATE] == 2
    assert template_dir_versions(server) == ["1", "2"]
    assert asked_for(network, new_template), "the vendor sends it to the DCS code alone"


async def test_a_revoked_dcs_code_keeps_the_template_and_updates_the_rest(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    await poll(server, clock)
    assert template_dir_versions(server) == ["1"]
    desk.revoke(contract.codes["DCS"])  # the server has not learnt it yet
    publish_virus_pattern_v2(desk)
    publish_template_v2(desk)
    outcome = await poll(server, clock)
    assert outcome.result == "success"  # type: ignore[attr-defined]
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}  # type: ignore[attr-defined]
    assert template_dir_versions(server) == ["1"], "the template held is kept"
