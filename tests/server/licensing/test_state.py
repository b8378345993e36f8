"""licensing.state: every gate sees the C/S Sec. slot through one computation, with the
clock guard, so setting the clock back cannot revive a license at any gate (the log gate
included, which once read the slot on the raw clock)."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.protection import set_day
from tests.helpers.server import Desk, ServerFactory

from cssec.core import policy
from cssec.core.clock import FakeClock
from cssec.core.license import LicenseState, Product, grace_end
from cssec.core.policy import Decision, Operation
from cssec.server.licensing.state import cs_license_state
from cssec.server.logs.client_logs import add_connection
from cssec.server.logs.events import Level, add_event

SRC = Path(__file__).resolve().parents[3] / "src" / "cssec"


class AskedTable(dict[tuple[Product, LicenseState, Operation], Decision]):
    """The policy table, recording which (product, state, operation) triples the gates ask."""

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.asked: list[tuple[Product, LicenseState, Operation]] = []

    def __getitem__(self, key: tuple[Product, LicenseState, Operation]) -> Decision:
        self.asked.append(key)
        return super().__getitem__(key)


async def test_a_clock_set_back_after_the_grace_period_does_not_revive_the_log_gate(
    servers: ServerFactory, desk: Desk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"], offline=True)
    slot = server.slot()
    set_day(clock, grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1))
    # The server sees the late time once (any license read records it) ...
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"
    # ... and then the clock goes back to well before the expiry.
    set_day(clock, slot.expires_on - timedelta(days=100))
    table = AskedTable(policy.POLICY_TABLE)
    monkeypatch.setattr(policy, "_TABLE", table)
    sessions = server.app.state.server.sessionmaker
    with sessions() as session:
        add_event(
            session,
            at=clock.now(),
            level=Level.INFO,
            kind="test.append",
            message={"ja": "追記", "en": "appended"},
        )
        session.commit()
    assert table.asked == [(Product.CS, LicenseState.EXPIRED, Operation.LOG_APPEND_SYSTEM_EVENT)]

    table.asked.clear()
    with sessions() as session:
        add_connection(
            session, at=clock.now(), client=None, ip="127.0.0.1", action="test", status="ok"
        )
        session.rollback()
    assert table.asked == [
        (Product.CS, LicenseState.EXPIRED, Operation.LOG_APPEND_CONNECTION_STATUS)
    ]


async def test_without_a_later_time_seen_the_state_follows_the_clock(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"], offline=True)
    slot = server.slot()
    tz = server.app.state.server.tz
    sessions = server.app.state.server.sessionmaker
    for day, state in [
        # Installed offline: never confirmed by the vendor, so "unconfirmed" until expiry.
        (slot.expires_on, LicenseState.UNCONFIRMED),
        (slot.expires_on + timedelta(days=1), LicenseState.GRACE_PERIOD),
        (grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1), LicenseState.EXPIRED),
    ]:
        set_day(clock, day)
        with sessions() as session:
            assert cs_license_state(session, now=clock.now(), tz=tz) is state


# Who may turn an expiry and a day into a state: the one computation (used by the gates
# and by what 製品ライセンス shows, on the same guarded day), and the activation checks,
# which judge a code being entered rather than the running license.
STATE_COMPUTATIONS = {
    "server/licensing/state.py",
    "server/licensing/install.py",
    "server/licensing/activation.py",
}


def _computes_state(path: Path) -> bool:
    tree = ast.parse(path.read_text("utf-8"))
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
        in ("license_state", "slot_license_state")
        for node in ast.walk(tree)
    )


def test_no_gate_computes_the_state_itself() -> None:
    found = {
        path.relative_to(SRC).as_posix()
        for path in sorted((SRC / "server").rglob("*.py"))
        if _computes_state(path)
    }
    assert found == STATE_COMPUTATIONS
