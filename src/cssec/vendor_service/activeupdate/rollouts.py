"""Staged rollouts: a published version reaches the fleet ring by ring, while it is healthy.

A version published with a rollout plan (`publish_component(..., rollout=(rings,
step_hours))`) is *withheld* from the current set: the signed manifest and the TUF targets
`<component>/<file>` keep the previous version, and the targets carry the candidate set
beside it (`rollout/manifest.json`, whose custom field is the rule `core.rollout`, and
`rollout/<component>/<file>`). Servers decide from the signed rule whether they are in
(`core.rollout.RolloutRule.admits`). The vendor moves the ring on schedule
(`advance_rollouts`, from the scheduler), halts it when the version's health fails
(`health.judge`) or on an operator's word, and `pull_rollout` republishes the previous
content as a new, higher version for everyone (TUF never goes backwards).

Every change bumps `rev`; the TUF repository signs a new targets version when the highest
`rev` differs from the one its newest targets carry (`tuf_repo.needs_sync`).

One rollout at a time: while one is active, only the same component may be published (a
newer version supersedes the rolling one). So the candidate's serial (its row id) is always
above the current set's, and a server in the ring never sees a set older than its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.policy import Component
from cssec.core.rollout import RolloutRule, RolloutRuleError, check_rings
from cssec.vendor_service.activeupdate.models import ComponentRolloutRow, ComponentVersionRow
from cssec.vendor_service.activeupdate.rollout_errors import (
    BadRolloutPlan,
    RolloutInProgress,
    RolloutNotActive,
    RolloutNotFound,
)
from cssec.vendor_service.services._context import now_utc
from cssec.vendor_service.services.audit import record_audit

ACTIVE, COMPLETED, SUPERSEDED, PULLED = "active", "completed", "superseded", "pulled"


@dataclass(frozen=True)
class RolloutPlan:
    rings: tuple[int, ...]
    step_hours: int

    def __post_init__(self) -> None:
        try:
            check_rings(self.rings)
        except RolloutRuleError as exc:
            raise BadRolloutPlan(detail=str(exc)) from None
        if not 1 <= self.step_hours <= 24 * 14:
            raise BadRolloutPlan(detail="--step-hours between 1 and 336")


def rollout_rev(session: Session) -> int:
    """The highest revision of any rollout (0 without any): one indexed read."""
    rev: int | None = (
        session.connection().execute(select(func.max(ComponentRolloutRow.__table__.c.rev))).scalar()
    )
    return rev or 0


def withheld_ids() -> Any:
    """The version rows no server takes by default: those of a rollout that never completed
    (active, superseded, pulled). A subquery for `NOT IN`."""
    return select(ComponentRolloutRow.version_id).where(ComponentRolloutRow.state != COMPLETED)


def active_rollout(session: Session) -> ComponentRolloutRow | None:
    return session.scalar(
        select(ComponentRolloutRow).where(ComponentRolloutRow.state == ACTIVE).limit(1)
    )


def rule_of(row: ComponentRolloutRow) -> RolloutRule:
    return RolloutRule(
        component=row.component,
        version=row.version,
        previous_version=row.previous_version,
        rings=tuple(row.rings),
        started_at=row.started_at,
        step_hours=row.step_hours,
        ring=row.ring,
        halted=row.halted,
    )


def _touch(session: Session, row: ComponentRolloutRow) -> None:
    row.rev = rollout_rev(session) + 1
    row.updated_at = now_utc(session)


def check_publish(session: Session, component: Component) -> None:
    """Before a publish (in its transaction, under the publish lock): refused while another
    component is rolling out; a rolling version of the same component is superseded."""
    active = active_rollout(session)
    if active is None:
        return
    if active.component != component.value:
        raise RolloutInProgress(component=active.component, version=active.version)
    active.state = SUPERSEDED
    _touch(session, active)


def begin_rollout(
    session: Session,
    row: ComponentVersionRow,
    *,
    previous_version: int | None,
    plan: RolloutPlan,
    actor: str,
) -> ComponentRolloutRow:
    now = now_utc(session)
    rollout = ComponentRolloutRow(
        version_id=row.id, component=row.component, version=row.version,
        previous_version=previous_version, rings=list(plan.rings), step_hours=plan.step_hours,
        started_at=now, ring=0, halted=False, state=ACTIVE, created_by=actor[:200],
        updated_at=now, rev=rollout_rev(session) + 1,
    )  # fmt: skip
    session.add(rollout)
    record_audit(
        session, actor=actor, action="component.rollout_started",
        target=f"component:{row.component}", before=None,
        after={"version": row.version, "rings": list(plan.rings), "step_hours": plan.step_hours},
    )  # fmt: skip
    session.flush()
    return rollout


def find_rollout(session: Session, component: str, version: int) -> ComponentRolloutRow:
    row = session.scalar(
        select(ComponentRolloutRow).where(
            ComponentRolloutRow.component == component, ComponentRolloutRow.version == version
        )
    )
    if row is None:
        raise RolloutNotFound(component=component, version=version)
    return row


def require_active(row: ComponentRolloutRow) -> None:
    if row.state != ACTIVE:
        raise RolloutNotActive(component=row.component, version=row.version, state=row.state)


def set_halted(
    session: Session, row: ComponentRolloutRow, *, halted: bool, actor: str, reason: str
) -> None:
    """Halt or resume (in the caller's transaction), with its audit row."""
    require_active(row)
    before = {"halted": row.halted, "ring": row.ring}
    row.halted = halted
    row.halted_at = now_utc(session) if halted else None
    row.halt_reason = reason[:2000] if halted else None
    _touch(session, row)
    record_audit(
        session, actor=actor,
        action="component.rollout_halted" if halted else "component.rollout_resumed",
        target=f"component:{row.component}", before=before,
        after={"version": row.version, "halted": halted, "reason": reason[:500]},
    )  # fmt: skip


def step(session: Session, row: ComponentRolloutRow, now: datetime) -> str | None:
    """Move an active, unhalted rollout to where its schedule is at `now`: the due ring, or
    completed from `full_at`. Returns what changed ("ring" / "completed") or None."""
    if row.state != ACTIVE or row.halted:
        return None
    rule = rule_of(row)
    if now >= rule.full_at:
        row.state = COMPLETED
        _touch(session, row)
        record_audit(
            session, actor="system:rollout", action="component.rollout_completed",
            target=f"component:{row.component}", before={"ring": row.ring},
            after={"version": row.version},
        )  # fmt: skip
        return COMPLETED
    due = rule.due_ring(now)
    if due > row.ring:
        before = row.ring
        row.ring = due
        _touch(session, row)
        record_audit(
            session, actor="system:rollout", action="component.rollout_advanced",
            target=f"component:{row.component}", before={"ring": before},
            after={"version": row.version, "ring": due, "percent": row.rings[due]},
        )  # fmt: skip
        return "ring"
    return None


def list_rollouts(session: Session, component: str | None = None) -> list[ComponentRolloutRow]:
    query = select(ComponentRolloutRow).order_by(ComponentRolloutRow.id.desc())
    if component is not None:
        query = query.where(ComponentRolloutRow.component == component)
    return list(session.scalars(query))
