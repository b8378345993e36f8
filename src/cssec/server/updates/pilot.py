"""The administrator's pilot group (issue 24): new components reach the pilot clients first.

When the server switches to a new component set while pilot mode is on and at least one
client is in the pilot group, the set is *in pilot*: the agent endpoints give pilot clients
the new set and every other client the previous one (the vendor-signed envelope the server
keeps for rollback, so clients verify either; its files stay served). The set is promoted to
every client after `promote_hours` (checked on the poller's tick) or at once on the
administrator's approval (promote_hours None: approval only), with a system event.

Failure rule, kept simple and strict because the pilot exists to catch a bad set early: any
pilot client whose health report shows a load failure or a scanner crash for a version the
pilot set introduced, or two failed update results from pilot clients since the pilot began.
Then the server stops handing the set on: it rolls back with the existing rollback (the held
serial keeps the hourly poll from applying it again), pilot clients get the previous set at
their next update, and a system event and an administrator's mail say so.

Limit: a second new set arriving while one is in pilot replaces it in pilot; non-pilot
clients then get the set that was in pilot (the server keeps one previous set only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.components import Manifest
from cssec.core.errors import CssecError
from cssec.server.licensing.env import LicenseEnv
from cssec.server.logs.events import Level, add_event
from cssec.server.logs.update_logs import UpdateResult
from cssec.server.models import (
    Client,
    ClientComponentHealth,
    ClientUpdateLog,
    ComponentManifestRow,
    ComponentStatus,
    PilotClient,
    PilotSettings,
)
from cssec.server.notices.service import record_notice

FAILED_UPDATES = 2
"""Failed update results from pilot clients that stop a pilot (one may be a full disk)."""


@dataclass(frozen=True)
class PilotState:
    enabled: bool
    promote_hours: int | None
    pilot_serial: int | None
    since: datetime | None
    promotes_at: datetime | None
    pilot_clients: int
    failures: int


def settings(session: Session) -> PilotSettings:
    row = session.get(PilotSettings, 1)
    if row is None:
        row = PilotSettings(id=1, enabled=False, promote_hours=24)
        session.add(row)
        session.flush()
    return row


def is_pilot(session: Session, client_id: int) -> bool:
    return session.get(PilotClient, client_id) is not None


def pilot_ids(session: Session) -> set[int]:
    return set(session.scalars(select(PilotClient.client_id)))


def set_pilot(session: Session, client_id: int, *, on: bool) -> None:
    row = session.get(PilotClient, client_id)
    if on and row is None:
        session.add(PilotClient(client_id=client_id))
    elif not on and row is not None:
        session.delete(row)


def configure(session: Session, *, enabled: bool, promote_hours: int | None, now: datetime) -> None:
    row = settings(session)
    row.enabled = enabled
    row.promote_hours = promote_hours
    row.updated_at = now
    if not enabled:
        row.pilot_manifest_id = None
        row.since = None


def note_switch(session: Session, manifest_id: int, *, now: datetime) -> None:
    """Called in the switch's transaction: the new set goes into pilot when pilot mode is
    on and the pilot group is not empty (with a previous set to give everyone else)."""
    row = session.get(PilotSettings, 1)
    if row is None:
        return
    status = session.get(ComponentStatus, 1)
    has_pilots = session.scalar(select(func.count()).select_from(PilotClient)) or 0
    if row.enabled and has_pilots and status is not None and status.previous_manifest_id:
        row.pilot_manifest_id = manifest_id
        row.since = now
    else:
        row.pilot_manifest_id = None
        row.since = None


def _active(session: Session) -> tuple[PilotSettings, ComponentStatus] | None:
    """The settings and status while a set is in pilot (it is still current)."""
    row = session.get(PilotSettings, 1)
    status = session.get(ComponentStatus, 1)
    if row is None or status is None or row.pilot_manifest_id is None:
        return None
    if status.current_manifest_id != row.pilot_manifest_id or not status.previous_manifest_id:
        return None
    return row, status


def in_pilot(env: LicenseEnv) -> bool:
    """Whether a set is in pilot now (a read: what `review` has to look at at all)."""
    with env.sessionmaker() as session:
        return _active(session) is not None


def served_envelope(session: Session, client_id: int) -> dict[str, Any] | None:
    """The envelope this client is to get: the previous set while the current one is in
    pilot and the client is not a pilot; else None (the current set, as without pilot)."""
    active = _active(session)
    if active is None or is_pilot(session, client_id):
        return None
    previous = session.get(ComponentManifestRow, active[1].previous_manifest_id or 0)
    return previous.envelope if previous is not None else None


def served_serial(session: Session, client_id: int) -> int | None:
    envelope = served_envelope(session, client_id)
    if envelope is None:
        return None
    manifest = _manifest(envelope)
    return manifest.serial if manifest is not None else None


def _manifest(envelope: dict[str, Any] | None) -> Manifest | None:
    """A stored manifest (verified when the server accepted it)."""
    if envelope is None:
        return None
    return Manifest.from_statement(envelope.get("statement")).value


def _new_versions(session: Session, status: ComponentStatus) -> set[tuple[str, int]]:
    current = session.get(ComponentManifestRow, status.current_manifest_id or 0)
    previous = session.get(ComponentManifestRow, status.previous_manifest_id or 0)
    new = _manifest(current.envelope if current else None)
    old = _manifest(previous.envelope if previous else None)
    if new is None:
        return set()
    out: set[tuple[str, int]] = set()
    for component, version in new.components.items():
        before = old.components.get(component) if old else None
        if before is None or before.version != version.version:
            out.add((component.value, version.version))
    return out


def _failures(session: Session, row: PilotSettings, status: ComponentStatus) -> tuple[int, int]:
    """(pilot clients with a load failure or crash on a new version, failed pilot updates)."""
    ids = pilot_ids(session)
    if not ids:
        return 0, 0
    new = _new_versions(session, status)
    sick: set[int] = set()
    for health in session.scalars(
        select(ClientComponentHealth).where(ClientComponentHealth.client_id.in_(ids))
    ):
        hit = (health.component, health.version) in new
        if hit and (health.load_failures > 0 or health.crashes > 0):
            sick.add(health.client_id)
    uids = list(session.scalars(select(Client.uid).where(Client.id.in_(ids))))
    failed = session.scalar(
        select(func.count())
        .select_from(ClientUpdateLog)
        .where(
            ClientUpdateLog.client_id.in_(uids),
            ClientUpdateLog.result == UpdateResult.FAILED.value,
            ClientUpdateLog.at >= (row.since or datetime.min.replace(tzinfo=UTC)),
        )
    )
    return len(sick), int(failed or 0)


def read_state(session: Session, *, now: datetime) -> PilotState:
    """What the components page shows; reads only (a page view writes no row)."""
    row = session.get(PilotSettings, 1) or PilotSettings(id=1, enabled=False, promote_hours=24)
    pilots = len(pilot_ids(session))
    active = _active(session)
    if active is None:
        return PilotState(row.enabled, row.promote_hours, None, None, None, pilots, 0)
    _, status = active
    current = session.get(ComponentManifestRow, status.current_manifest_id or 0)
    sick, failed = _failures(session, row, status)
    at = None
    if row.promote_hours is not None and row.since is not None:
        at = row.since + timedelta(hours=row.promote_hours)
    return PilotState(
        row.enabled, row.promote_hours, current.serial if current else None, row.since, at,
        pilots, sick + failed,
    )  # fmt: skip


def _promote(session: Session, row: PilotSettings, *, now: datetime, actor: str) -> None:
    serial = session.get(ComponentManifestRow, row.pilot_manifest_id or 0)
    row.pilot_manifest_id = None
    row.since = None
    number = serial.serial if serial else "-"
    add_event(
        session, at=now, level=Level.INFO, kind="components.pilot_promoted",
        message={
            "ja": f"パイロットグループで確認したコンポーネント（シリアル {number}）を"
            f"すべてのクライアントに配信します（{actor}）。",
            "en": f"The components tried by the pilot group (serial {number}) now go to "
            f"every client ({actor}).",
        },
        details={"serial": number, "actor": actor},
    )  # fmt: skip


def approve(env: LicenseEnv, *, actor: str) -> bool:
    """The administrator's approval: every client gets the set in pilot now."""
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        active = _active(session)
        if active is None:
            return False
        _promote(session, active[0], now=now, actor=actor)
    return True


def review(env: LicenseEnv) -> str | None:
    """On the poller's tick and after each client report: roll the pilot back on failures,
    or promote it when its delay has passed. Returns "rolled_back", "promoted" or None."""
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        active = _active(session)
        if active is None:
            return None
        row, status = active
        sick, failed = _failures(session, row, status)
        if not sick and failed < FAILED_UPDATES:
            if row.promote_hours is None or row.since is None:
                return None
            if now < row.since + timedelta(hours=row.promote_hours):
                return None
            _promote(session, row, now=now, actor="scheduler")
            return "promoted"
    return _roll_back(env, sick=sick, failed=failed)


def _roll_back(env: LicenseEnv, *, sick: int, failed: int) -> str | None:
    from cssec.server.updates.service import rollback_components  # noqa: PLC0415  (a cycle)

    try:
        outcome = rollback_components(env, trigger="pilot", actor="pilot")
    except CssecError:
        return None
    now = env.clock.now()
    held = outcome.serial
    with env.sessionmaker() as session, session.begin():
        row = settings(session)
        row.pilot_manifest_id = None
        row.since = None
        status = session.get(ComponentStatus, 1)
        bad = status.held_serial if status is not None else None
        texts = {
            "ja": f"パイロットグループのクライアントが障害を報告したため（読み込み失敗・"
            f"クラッシュ {sick}台、アップデート失敗 {failed}件）、コンポーネント"
            f"（シリアル {bad}）の配信を止め、以前のバージョン（シリアル {held}）に"
            "戻しました。ほかのクライアントには配信していません。",
            "en": f"Pilot clients reported failures ({sick} with load failures or crashes, "
            f"{failed} failed updates): the components (serial {bad}) are no longer handed "
            f"on and were rolled back to the previous version (serial {held}). No other "
            "client received them.",
        }
        add_event(
            session, at=now, level=Level.WARNING, kind="components.pilot_rolled_back",
            message=texts, details={"serial": bad, "back_to": held, "sick": sick,
                                    "failed_updates": failed},
        )  # fmt: skip
        record_notice(
            session, key=f"components.pilot_rolled_back:{bad}",
            kind="components.pilot_rolled_back", at=now,
            subject={
                "ja": "[C/S Sec.] パイロットグループの障害でコンポーネントを戻しました",
                "en": "[C/S Sec.] Components rolled back after pilot failures",
            },
            body=texts,
        )  # fmt: skip
    return "rolled_back"
