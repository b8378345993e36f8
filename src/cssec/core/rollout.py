"""Staged rollout of a component version: the rule the vendor signs into its TUF targets,
and which servers it admits.

The rule travels as the `custom["rollout"]` of the candidate manifest target
(`rollout/manifest.json`), signed with the targets key like every other target, so a
server reads it only after python-tuf verified it (signature, version, expiry):

    {"component", "version", "previous_version", "rings": [1, 10, 50, 100],
     "started_at", "step_hours", "ring": <index into rings>, "halted": bool}

A server's bucket is a stable number in [0, 100) from its server id (`bucket`), moved by
the administrator's timing choice (`effective_bucket`): "early" divides it by 10 (such a
server joins at the latest when the rollout reaches 10 %), "late" maps it into [50, 100)
(it joins only in a ring above 50 %, usually the last one), "standard" keeps it. A server
takes the version when its effective bucket is below the current ring's percent
(`admits`); from `full_at` (started_at + len(rings) x step_hours) every server does, unless
the rule is halted. The vendor moves `ring` on its schedule while the version's health
holds, and signs `halted` when it does not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TIMINGS = ("early", "standard", "late")
MAX_RINGS = 8
MAX_STEP_HOURS = 24 * 14
BUCKETS = 10_000
"""Bucket resolution: 0.01 %."""


class RolloutRuleError(ValueError):
    """A rollout rule (from the CLI or the signed metadata) that does not hold together."""


def bucket(server_id: str) -> float:
    """The server's place in the fleet, in [0, 100): stable for ever, uniform over ids."""
    digest = hashlib.sha256(b"cssec-rollout:" + server_id.encode()).digest()
    return (int.from_bytes(digest[:8], "big") % BUCKETS) / (BUCKETS / 100)


def effective_bucket(value: float, timing: str) -> float:
    """`value` moved by the administrator's choice (module docstring)."""
    if timing == "early":
        return value / 10
    if timing == "late":
        return 50 + value / 2
    return value


def parse_rings(text: str) -> tuple[int, ...]:
    """`1,10,50,100` → (1, 10, 50, 100): strictly growing whole percents ending at 100."""
    try:
        rings = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise RolloutRuleError(
            f"rings must be whole percents separated by commas: {text!r}"
        ) from None
    check_rings(rings)
    return rings


def check_rings(rings: tuple[int, ...]) -> None:
    if not 1 <= len(rings) <= MAX_RINGS:
        raise RolloutRuleError(f"1 to {MAX_RINGS} rings")
    if any(not 0 < r <= 100 for r in rings) or list(rings) != sorted(set(rings)):
        raise RolloutRuleError("rings must grow strictly, each between 1 and 100")
    if rings[-1] != 100:
        raise RolloutRuleError("the last ring must be 100")


@dataclass(frozen=True)
class RolloutRule:
    component: str
    version: int
    previous_version: int | None
    rings: tuple[int, ...]
    started_at: datetime
    step_hours: int
    ring: int
    halted: bool

    @property
    def full_at(self) -> datetime:
        """From then on every server takes the version (unless halted): the most a ring
        can hold a server back."""
        return self.started_at + timedelta(hours=self.step_hours * len(self.rings))

    def percent_at(self, now: datetime) -> float:
        """The share of the fleet admitted at `now` (0 once halted)."""
        if self.halted:
            return 0.0
        if now >= self.full_at:
            return 100.0
        return float(self.rings[min(self.ring, len(self.rings) - 1)])

    def admits(self, server_bucket: float, now: datetime) -> bool:
        return server_bucket < self.percent_at(now)

    def due_ring(self, now: datetime) -> int:
        """The ring the schedule has reached at `now` (the vendor advances to it while the
        health holds)."""
        if now < self.started_at:
            return 0
        steps = int((now - self.started_at) / timedelta(hours=self.step_hours))
        return min(steps, len(self.rings) - 1)

    def to_custom(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "version": self.version,
            "previous_version": self.previous_version,
            "rings": list(self.rings),
            "started_at": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "step_hours": self.step_hours,
            "ring": self.ring,
            "halted": self.halted,
            "full_at": self.full_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    @classmethod
    def from_custom(cls, raw: object) -> RolloutRule:
        """The rule as signed; RolloutRuleError for anything malformed."""
        if not isinstance(raw, dict):
            raise RolloutRuleError("rollout rule is not an object")
        try:
            rings = tuple(int(r) for r in raw["rings"])
            check_rings(rings)
            previous = raw.get("previous_version")
            rule = cls(
                component=str(raw["component"]),
                version=int(raw["version"]),
                previous_version=None if previous is None else int(previous),
                rings=rings,
                started_at=datetime.fromisoformat(str(raw["started_at"]).replace("Z", "+00:00")),
                step_hours=int(raw["step_hours"]),
                ring=int(raw["ring"]),
                halted=raw["halted"] is True,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RolloutRuleError(f"rollout rule: {exc}") from None
        if not 1 <= rule.step_hours <= MAX_STEP_HOURS or not 0 <= rule.ring < len(rings):
            raise RolloutRuleError("rollout rule: step_hours or ring out of range")
        if rule.started_at.tzinfo is None:
            raise RolloutRuleError("rollout rule: started_at without a time zone")
        return rule
