"""Component health as servers report it, aggregated per version (and per ring), and the
verdict that halts a rollout.

Each server sends, per component version, its clients' counts since it installed that
version (cumulative: the vendor keeps the newest report per server and version, so a report
sent twice, or replayed, never counts twice). `judge` compares the rolling version with
the previous one: load failures, scan errors (crashes included) as shares, detections and
quarantines per client-hour as a factor; nothing is judged below `min_clients` reporting
clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.vendor_service.activeupdate.models import ComponentHealthRow

SESSION_KEY = "rollout_health"


@dataclass(frozen=True)
class HealthPolicy:
    min_clients: int = 50
    max_load_failure_excess: float = 0.02
    max_scan_error_excess: float = 0.02
    surge_factor: float = 5.0
    min_interval_seconds: int = 300

    @classmethod
    def from_settings(cls, settings: Any) -> HealthPolicy:
        return cls(
            min_clients=settings.rollout_min_clients,
            max_load_failure_excess=settings.rollout_max_load_failure_excess,
            max_scan_error_excess=settings.rollout_max_scan_error_excess,
            surge_factor=settings.rollout_surge_factor,
            min_interval_seconds=settings.rollout_health_min_interval_seconds,
        )


def policy_of(session: Session) -> HealthPolicy:
    found = session.info.get(SESSION_KEY)
    return found if isinstance(found, HealthPolicy) else HealthPolicy()


@dataclass(frozen=True)
class VersionHealth:
    servers: int = 0
    clients: int = 0
    loaded: int = 0
    load_failures: int = 0
    scans: int = 0
    scan_errors: int = 0
    crashes: int = 0
    detections: int = 0
    quarantines: int = 0
    hours: int = 0
    by_ring: dict[int, int] = field(default_factory=dict)
    """Reporting servers per ring index (rings given to `health_of`)."""

    @property
    def load_failure_rate(self) -> float:
        return self.load_failures / self.clients if self.clients else 0.0

    @property
    def scan_error_rate(self) -> float:
        return (self.scan_errors + self.crashes) / self.scans if self.scans else 0.0

    def per_hour(self, count: int) -> float:
        return count / self.hours if self.hours else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "servers": self.servers, "clients": self.clients, "loaded": self.loaded,
            "load_failures": self.load_failures, "scans": self.scans,
            "scan_errors": self.scan_errors, "crashes": self.crashes,
            "detections": self.detections, "quarantines": self.quarantines,
            "hours": self.hours, "load_failure_rate": round(self.load_failure_rate, 4),
            "scan_error_rate": round(self.scan_error_rate, 4),
            "by_ring": {str(k): v for k, v in sorted(self.by_ring.items())},
        }  # fmt: skip


def health_of(
    session: Session, component: str, version: int, *, rings: list[int] | None = None
) -> VersionHealth:
    rows = session.scalars(  # ix_component_health_component_version
        select(ComponentHealthRow).where(
            ComponentHealthRow.component == component, ComponentHealthRow.version == version
        )
    ).all()
    by_ring: dict[int, int] = {}
    if rings:
        for row in rows:
            ring = next((i for i, r in enumerate(rings) if row.bucket < r * 100), len(rings) - 1)
            by_ring[ring] = by_ring.get(ring, 0) + 1
    return VersionHealth(
        servers=len(rows),
        clients=sum(r.clients for r in rows),
        loaded=sum(r.loaded for r in rows),
        load_failures=sum(r.load_failures for r in rows),
        scans=sum(r.scans for r in rows),
        scan_errors=sum(r.scan_errors for r in rows),
        crashes=sum(r.crashes for r in rows),
        detections=sum(r.detections for r in rows),
        quarantines=sum(r.quarantines for r in rows),
        hours=sum(r.hours for r in rows),
        by_ring=by_ring,
    )


@dataclass(frozen=True)
class HealthVerdict:
    ok: bool
    reason: str = ""


def judge(new: VersionHealth, old: VersionHealth | None, policy: HealthPolicy) -> HealthVerdict:
    """Whether the rolling version may go on (see the module docstring)."""
    if new.clients < policy.min_clients:
        return HealthVerdict(True, "too few reports to judge")
    base = old if old is not None else VersionHealth()
    load = new.load_failure_rate - base.load_failure_rate
    if load > policy.max_load_failure_excess:
        return HealthVerdict(
            False,
            f"load failures {new.load_failure_rate:.1%} of {new.clients} clients "
            f"(previous version {base.load_failure_rate:.1%})",
        )
    scan = new.scan_error_rate - base.scan_error_rate
    if new.scans >= policy.min_clients and scan > policy.max_scan_error_excess:
        return HealthVerdict(
            False,
            f"scan errors and crashes {new.scan_error_rate:.1%} of {new.scans} scans "
            f"(previous version {base.scan_error_rate:.1%})",
        )
    for label, count, before in (
        ("detections", new.detections, base.detections),
        ("quarantines", new.quarantines, base.quarantines),
    ):
        rate = new.per_hour(count)
        floor = max(base.per_hour(before), 0.05)  # a quiet fleet: 1 in 20 client-hours
        if new.hours > 0 and rate > policy.surge_factor * floor:
            return HealthVerdict(
                False, f"{label} {rate:.2f} per client-hour, {rate / floor:.1f}x the previous"
            )
    return HealthVerdict(True)
