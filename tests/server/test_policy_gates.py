"""The table-driven policy test (issues #5 and #6): EVERY `core.policy.Operation` in EVERY
license state (activated, grace period, expired; fake clock), against the real endpoint or
command that performs it, must behave as `decide(state, op).allowed` says.

Behaviour alone cannot show that an always-allowed operation is gated, so each probe runs
twice: with the real table (the outcome matches, and the table was asked for exactly this
(state, operation)), and with that one entry flipped (the outcome flips). A probe whose code
path forgets its gate fails both ways. The walk fails as well when an operation has no probe.

And: no module outside core.policy decides on expiry itself (an AST scan for comparisons
with `LicenseState.EXPIRED`, with an allow-list of the activation checks, which judge a code
being entered, not an operation).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.helpers.protection import STATES, Setup, move_to_state, setup
from tests.helpers.server import Desk, ServerFactory, SwitchableTransport
from tests.helpers.updates import activeupdate_calls, installed

from cssec.core import policy
from cssec.core.errors import LicenseExpired
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Decision, Operation, decide, decide_all
from cssec.server.models import ConnectionLogEntry, ServerUpdateLog

SRC = Path(__file__).resolve().parents[2] / "src" / "cssec"
Probe = Callable[["Walk"], Awaitable[bool]]


Key = tuple[Product, LicenseState, Operation]


class SpyTable(dict[Key, Decision]):
    """The policy table, recording what is asked and flipping at most one entry."""

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.asked: set[Key] = set()
        self.flip: set[Key] = set()

    def __getitem__(self, key: Key) -> Decision:
        self.asked.add(key)
        decision = super().__getitem__(key)
        if key in self.flip:
            return dataclasses.replace(decision, allowed=not decision.allowed)
        return decision


@dataclasses.dataclass
class Walk:
    setup: Setup
    network: SwitchableTransport
    n: int = 0

    @property
    def server(self) -> Any:
        return self.setup.server

    async def form(self, path: str, data: dict[str, Any], page: str) -> int:
        response = await self.setup.post_form(path, data, page=page)
        return int(response.status_code)

    def events(self, kind: str) -> int:
        return len(self.server.events(kind))

    def count(self, model: Any) -> int:
        with self.server.app.state.server.sessionmaker() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def host(self) -> str:
        self.n += 1
        return f"pc-gate-{self.n}"


def _file_probe(component: Component) -> Probe:
    async def probe(w: Walk) -> bool:
        current = installed(w.server).current
        assert current is not None
        sha = current.components[component].sha256
        async with w.setup.agent() as agent:
            response = await agent.get(f"/api/v1/agent/files/{component.value}/{sha}")
        assert response.status_code in {200, 403}, response.text
        return response.status_code == 200

    return probe


async def _manifest(w: Walk) -> bool:
    async with w.setup.agent() as agent:
        response = await agent.get("/api/v1/agent/manifest")
    return response.status_code == 200


async def _activeupdate(w: Walk) -> bool:
    before = activeupdate_calls(w.network)
    await w.server.app.state.component_poller.update_now(actor="test")
    return activeupdate_calls(w.network) > before


async def _cleanup(w: Walk) -> bool:
    result = {"path": "/tmp/x.com", "threat": "Eicar_test_file", "action": "quarantined"}
    async with w.setup.agent() as agent:
        response = await agent.post(
            "/api/v1/agent/cleanup-result", json={"request_id": None, "results": [result]}
        )
    return response.status_code == 204


async def _realtime(w: Walk) -> bool:
    body = await w.setup.heartbeat()
    return bool(body["realtime_scan"])


async def _virus_log(w: Walk) -> bool:
    detection = {"path": "/home/a/eicar.com", "threat": "Eicar_test_file"}
    async with w.setup.agent() as agent:
        response = await agent.post(
            "/api/v1/agent/virus-log", json={"scan_type": "scan_now", "detections": [detection]}
        )
    return response.status_code == 204


async def _issue_token(w: Walk, route: str, hostname: str) -> str | None:
    page = f"/clients/install/{route}"
    form = {"directory": "/opt/c", "hostname": hostname}
    response = await w.setup.post_form(page, form, page=page)
    text = response.text.replace("&#39;", "'")
    marker = "--token "
    if response.status_code != 200 or marker not in text:
        return None
    return text.split(marker, 1)[1].split()[0]


def _install_probe(route: str) -> Probe:
    async def probe(w: Walk) -> bool:
        hostname = w.host()
        token = None
        if route != "autopcc":
            with_real_table = policy._TABLE.flip  # type: ignore[attr-defined]
            policy._TABLE.flip = set()  # type: ignore[attr-defined]
            token = await _issue_token(w, route, hostname)
            policy._TABLE.flip = with_real_table  # type: ignore[attr-defined]
            assert token
        body = {"route": route, "install_token": token, "hostname": hostname, "os": "Linux"}
        response = await w.server.client.post("/api/v1/agent/enroll", json=body)
        assert response.status_code in {200, 403}, response.text
        return response.status_code == 200

    return probe


async def _webmanager(w: Walk) -> bool:
    response = await w.server.client.get("/dashboard")
    return response.status_code == 200


async def _update_server_log(w: Walk) -> bool:
    before = w.count(ServerUpdateLog)
    try:
        await w.server.app.state.component_poller.update_now(actor="test")
    except LicenseExpired:  # a refused append surfaces as the policy's error
        return False
    return w.count(ServerUpdateLog) > before


async def _update_client_log(w: Walk) -> bool:
    async with w.setup.agent() as agent:
        response = await agent.post(
            "/api/v1/agent/update-result", json={"result": "up_to_date", "versions": {}}
        )
    return response.status_code == 204


async def _system_event(w: Walk) -> bool:
    before = w.events("client.install_token_web")
    await _issue_token(w, "web", "")
    return w.events("client.install_token_web") > before


async def _connection_log(w: Walk) -> bool:
    before = w.count(ConnectionLogEntry)
    async with w.setup.agent() as agent:
        await agent.post("/api/v1/agent/update-result", json={"result": "up_to_date"})
    return w.count(ConnectionLogEntry) > before


async def _log_settings(w: Walk) -> bool:
    before = w.events("logs.settings_changed")
    form = {"virus": "30", "update": "0", "system_event": "0", "connection": "0"}
    await w.form("/admin/log-management", form, page="/admin/log-management")
    return w.events("logs.settings_changed") > before


async def _outbreak_monitor(w: Walk) -> bool:
    before = w.events("outbreak.monitor_settings")
    form = {"enabled": "1", "min_detections": "50", "min_clients": "5", "window_minutes": "60"}
    form |= {"cooldown_minutes": "60", "smtp_port": "25"}
    await w.form("/admin/outbreak-monitor", form, page="/admin/outbreak-monitor")
    return w.events("outbreak.monitor_settings") > before


async def _prevention_set(w: Walk) -> bool:
    before = w.events("outbreak_prevention.set")
    form = {"block_ports": "445", "deny_write_shares": "", "deny_files": ""}
    await w.form("/outbreak/prevention/policy", form, page="/outbreak/prevention")
    return w.events("outbreak_prevention.set") > before


def _prevention_action(action: str, kind: str) -> Probe:
    async def probe(w: Walk) -> bool:
        before = w.events(kind)
        await w.form(
            f"/outbreak/prevention/{action}", {"scope": "all"}, page="/outbreak/prevention"
        )
        return w.events(kind) > before

    return probe


PROBES: dict[Operation, Probe] = {
    **{policy.distribution_operation(c): _file_probe(c) for c in Component},
    Operation.CLIENT_MANUAL_UPDATE: _manifest,
    Operation.ACTIVEUPDATE_DOWNLOAD: _activeupdate,
    Operation.DAMAGE_CLEANUP_RUN: _cleanup,
    Operation.REALTIME_SCAN: _realtime,
    Operation.SCAN_NOW: _virus_log,
    Operation.CLIENT_INSTALL_WEB: _install_probe("web"),
    Operation.CLIENT_INSTALL_REMOTE: _install_probe("remote"),
    Operation.CLIENT_INSTALL_AUTOPCC: _install_probe("autopcc"),
    Operation.WEBMANAGER_VIEW: _webmanager,
    Operation.LOG_APPEND_VIRUS: _virus_log,
    Operation.LOG_APPEND_UPDATE_SERVER: _update_server_log,
    Operation.LOG_APPEND_UPDATE_CLIENT: _update_client_log,
    Operation.LOG_APPEND_SYSTEM_EVENT: _system_event,
    Operation.LOG_APPEND_CONNECTION_STATUS: _connection_log,
    Operation.LOG_SETTINGS_CHANGE: _log_settings,
    Operation.OUTBREAK_MONITOR: _outbreak_monitor,
    Operation.OUTBREAK_PREVENTION_SET: _prevention_set,
    Operation.OUTBREAK_PREVENTION_DEPLOY: _prevention_action(
        "deploy", "outbreak_prevention.deployed"
    ),
    Operation.OUTBREAK_PREVENTION_RELEASE: _prevention_action(
        "release", "outbreak_prevention.released"
    ),
}


def test_every_operation_has_a_probe() -> None:
    assert set(PROBES) == set(Operation), "an operation without its endpoint probe"


@pytest.mark.parametrize("state", STATES)
async def test_every_operation_follows_the_policy_table(
    servers: ServerFactory,
    desk: Desk,
    clock: Any,
    network: SwitchableTransport,
    monkeypatch: pytest.MonkeyPatch,
    state: str,
) -> None:
    walk = Walk(setup=await setup(servers, desk), network=network)
    # The install's C/S Sec. code brings three components; the DCS code the template.
    await walk.server.app.state.component_poller.update_now(actor="test")
    # A policy to deploy and release, saved before the clock moves.
    assert await _prevention_set(walk)
    move_to_state(walk.server, clock, state)
    licenses = await walk.server.api("GET", "/api/v1/licenses")
    assert licenses.json()[0]["status"] == state
    chosen = LicenseState(state)
    spy = SpyTable(policy.POLICY_TABLE)
    monkeypatch.setattr(policy, "_TABLE", spy)
    wrong: list[str] = []
    for op in Operation:
        # Both slots (C/S Sec. and Damage Cleanup Services) share the contract's state.
        expected = decide_all(dict.fromkeys(Product, chosen), op).allowed
        spy.asked.clear()
        spy.flip = set()
        done = await PROBES[op](walk)
        if done != expected:
            wrong.append(f"{op.value}: performed={done}, policy allows={expected}")
        if (Product.CS, chosen, op) not in spy.asked:
            wrong.append(f"{op.value}: the endpoint never asked the policy table")
        # Flip every product's entry that agrees with the outcome: the outcome flips.
        spy.flip = {(p, chosen, op) for p in Product if decide(p, chosen, op).allowed == expected}
        flipped = await PROBES[op](walk)
        if flipped != (not expected):
            wrong.append(f"{op.value}: with the table entry flipped, performed={flipped}")
    spy.flip = set()
    assert wrong == []


# The activation checks judge a code being entered (refusing a code already past its grace),
# which is no operation of the policy table. Counted, so a new comparison there fails too.
EXPIRY_ALLOW_LIST = {"server/licensing/install.py": 2, "server/licensing/activation.py": 1}


def _expiry_comparisons(path: Path) -> int:
    tree = ast.parse(path.read_text("utf-8"))
    found = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            if (
                isinstance(side, ast.Attribute)
                and side.attr == "EXPIRED"
                and isinstance(side.value, ast.Name)
                and side.value.id == "LicenseState"
            ):
                found += 1
            if isinstance(side, ast.Constant) and side.value == LicenseState.EXPIRED.value:
                found += any(isinstance(s, ast.Attribute) and s.attr in {"state", "value"}
                             for s in [node.left, *node.comparators])  # fmt: skip
    return found


def test_no_module_outside_the_policy_decides_on_expiry() -> None:
    found: dict[str, int] = {}
    for package in ("server", "vendor_service"):
        for path in sorted((SRC / package).rglob("*.py")):
            count = _expiry_comparisons(path)
            if count:
                found[path.relative_to(SRC).as_posix()] = count
    assert found == EXPIRY_ALLOW_LIST


def test_the_scan_sees_a_comparison(tmp_path: Path) -> None:
    """The detector itself works (so a clean result above means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text("if s is LicenseState.EXPIRED or slot.state == 'expired':\n    pass\n")
    assert _expiry_comparisons(sample) == 2
