"""Rollout use cases: show, halt, resume, pull, and the scheduler's advance (with the
automatic halt on failing health). Each owns its transaction and audit row; after the
commit, the manifest caches are dropped and the TUF repository re-signs its targets, so
the next timestamp.json every server fetches carries the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cssec.core.policy import Component
from cssec.vendor_service.activeupdate.health import (
    HealthVerdict,
    VersionHealth,
    health_of,
    judge,
    policy_of,
)
from cssec.vendor_service.activeupdate.models import ComponentRolloutRow, ComponentVersionRow
from cssec.vendor_service.activeupdate.rollout_errors import NoPreviousVersion
from cssec.vendor_service.activeupdate.rollouts import (
    ACTIVE,
    PULLED,
    find_rollout,
    list_rollouts,
    require_active,
    rule_of,
    set_halted,
    step,
)
from cssec.vendor_service.activeupdate.services import (
    Published,
    _serialise_publishes,
    publish_component,
    store_of,
)
from cssec.vendor_service.activeupdate.validate import parse_component_name
from cssec.vendor_service.services._context import now_utc, transaction
from cssec.vendor_service.services.outbox import MAIL, enqueue
from cssec.vendor_service.services.webhooks import emit_event

HALTED_EVENT = "component.rollout_halted"
OPERATORS_KEY = "rollout_operators"


@dataclass(frozen=True)
class RolloutView:
    component: str
    version: int
    previous_version: int | None
    rings: list[int]
    ring: int
    percent: float
    step_hours: int
    started_at: datetime
    full_at: datetime
    state: str
    halted: bool
    halt_reason: str | None
    pulled_version: int | None
    health: VersionHealth
    previous_health: VersionHealth | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component, "version": self.version,
            "previous_version": self.previous_version, "rings": self.rings, "ring": self.ring,
            "percent": self.percent, "step_hours": self.step_hours,
            "started_at": self.started_at.isoformat(), "full_at": self.full_at.isoformat(),
            "state": self.state, "halted": self.halted, "halt_reason": self.halt_reason,
            "pulled_version": self.pulled_version, "health": self.health.to_dict(),
            "previous_health": None if self.previous_health is None
            else self.previous_health.to_dict(),
        }  # fmt: skip


def _view(session: Session, row: ComponentRolloutRow) -> RolloutView:
    rule = rule_of(row)
    now = now_utc(session)
    previous = (
        None
        if row.previous_version is None
        else health_of(session, row.component, row.previous_version)
    )
    return RolloutView(
        component=row.component, version=row.version, previous_version=row.previous_version,
        rings=list(row.rings), ring=row.ring,
        percent=rule.percent_at(now) if row.state == ACTIVE else 0.0,
        step_hours=row.step_hours, started_at=row.started_at, full_at=rule.full_at,
        state=row.state, halted=row.halted, halt_reason=row.halt_reason,
        pulled_version=row.pulled_version,
        health=health_of(session, row.component, row.version, rings=list(row.rings)),
        previous_health=previous,
    )  # fmt: skip


def show_rollouts(session: Session, component: str | None = None) -> list[RolloutView]:
    name = None if component is None else parse_component_name(component).value
    with transaction(session):
        return [_view(session, row) for row in list_rollouts(session, name)]


def _changed(session: Session) -> None:
    """After a rollout changed (committed): every node drops its manifest cache, and the
    TUF targets are re-signed."""
    from cssec.vendor_service.activeupdate.tuf_repo import sync_repository  # noqa: PLC0415

    store = store_of(session)
    store.cache.clear()
    store.mark_published(0)
    sync_repository(session)


def halt_rollout(
    session: Session, component: str, version: int, *, actor: str, reason: str = ""
) -> RolloutView:
    name = parse_component_name(component).value
    with transaction(session):
        _serialise_publishes(session)
        row = find_rollout(session, name, version)
        set_halted(session, row, halted=True, actor=actor, reason=reason or f"halted by {actor}")
        _announce_halt(session, row, automatic=False)
    _changed(session)
    return _view(session, row)


def resume_rollout(session: Session, component: str, version: int, *, actor: str) -> RolloutView:
    name = parse_component_name(component).value
    with transaction(session):
        _serialise_publishes(session)
        row = find_rollout(session, name, version)
        set_halted(session, row, halted=False, actor=actor, reason="")
    _changed(session)
    return _view(session, row)


def pull_rollout(session: Session, component: str, version: int, *, actor: str) -> Published:
    """Every server back to the last good content: the version the rollout replaced,
    republished as the next version (TUF never goes backwards), for everyone at once.
    The rollout ends as "pulled" (halted first, if it was not)."""
    kind = parse_component_name(component)
    with transaction(session):
        row = find_rollout(session, kind.value, version)
        require_active(row)
        good = _version_row(session, kind, row.previous_version)
        if good is None:
            raise NoPreviousVersion(component=kind.value, version=version)
        data = store_of(session).blobs.read(good.sha256)
    published = publish_component(
        session, kind.value, data, actor=actor
    )  # supersedes the rollout in its own transaction
    with transaction(session):
        row = find_rollout(session, kind.value, version)
        row.state = PULLED
        row.pulled_version = published.component_version.version
        from cssec.vendor_service.services.audit import record_audit  # noqa: PLC0415

        record_audit(
            session, actor=actor, action="component.rollout_pulled",
            target=f"component:{kind.value}", before={"version": version},
            after={"version": published.component_version.version, "content_of": good.version},
        )  # fmt: skip
    return published


def _version_row(
    session: Session, component: Component, version: int | None
) -> ComponentVersionRow | None:
    if version is None:
        return None
    from sqlalchemy import select  # noqa: PLC0415

    return session.scalar(
        select(ComponentVersionRow).where(
            ComponentVersionRow.component == component.value,
            ComponentVersionRow.version == version,
        )
    )


def _announce_halt(session: Session, row: ComponentRolloutRow, *, automatic: bool) -> None:
    """The webhook and, when operators' addresses are set, a mail (both in the outbox,
    sent after the commit)."""
    data = {
        "component": row.component, "version": row.version,
        "previous_version": row.previous_version, "ring": row.ring,
        "percent": row.rings[row.ring], "automatic": automatic, "reason": row.halt_reason,
    }  # fmt: skip
    emit_event(session, HALTED_EVENT, data)
    operators = session.info.get(OPERATORS_KEY)
    if not automatic or not isinstance(operators, tuple):
        return
    subject = f"[cssec] rollout halted: {row.component} v{row.version}"
    body = (
        f"{row.component} バージョン {row.version}の段階的配信を自動停止しました。\n"
        f"The staged rollout of {row.component} version {row.version} halted by itself.\n\n"
        f"{row.halt_reason}\n\n"
        f"cssec vendor component rollout show {row.component} {row.version}\n"
        f"cssec vendor component rollout pull {row.component} {row.version}\n"
    )
    for to in operators:
        enqueue(
            session, channel=MAIL, event_type="rollout.halted", recipient=to,
            payload={"subject": subject, "body": body, "language": "ja",
                     "notice": f"rollout:{row.component}/{row.version}/halted"},
        )  # fmt: skip


def advance_rollouts(session: Session) -> list[str]:
    """The scheduler's pass: judge each active rollout's health (halting it, with the event,
    webhook and mail, when it fails), else move it along its schedule. Returns one line per
    change."""
    done: list[str] = []
    policy = policy_of(session)
    with transaction(session):
        _serialise_publishes(session)
        now = now_utc(session)
        for row in list_rollouts(session):
            if row.state != ACTIVE or row.halted:
                continue
            verdict = check_health(session, row, policy=policy)
            if not verdict.ok:
                set_halted(session, row, halted=True, actor="system:rollout", reason=verdict.reason)
                _announce_halt(session, row, automatic=True)
                done.append(f"{row.component} v{row.version}: halted ({verdict.reason})")
                continue
            change = step(session, row, now)
            if change is not None:
                done.append(f"{row.component} v{row.version}: {change} (ring {row.ring})")
    if done:
        _changed(session)
    return done


def check_health(session: Session, row: ComponentRolloutRow, *, policy: Any) -> HealthVerdict:
    new = health_of(session, row.component, row.version)
    old = (
        None
        if row.previous_version is None
        else health_of(session, row.component, row.previous_version)
    )
    return judge(new, old, policy)


def judge_rollouts(session: Session) -> list[str]:
    """Halt, at once, an active rollout whose health now fails (after a health report);
    the scheduler's `advance_rollouts` does the same and moves the rings."""
    done: list[str] = []
    policy = policy_of(session)
    with transaction(session):
        for row in list_rollouts(session):
            if row.state != ACTIVE or row.halted:
                continue
            verdict = check_health(session, row, policy=policy)
            if not verdict.ok:
                _serialise_publishes(session)
                set_halted(session, row, halted=True, actor="system:rollout", reason=verdict.reason)
                _announce_halt(session, row, automatic=True)
                done.append(f"{row.component} v{row.version}: halted ({verdict.reason})")
    if done:
        _changed(session)
    return done
