"""Component health reports: what a client says of each component version it runs, and
what a server sends the vendor (the sum over its clients, signed with its identity key).

Counts are cumulative since the reporter installed the version, so the receiver keeps the
newest report per reporter and version and a repeated (or replayed) report adds nothing.
Every report is bounded: at most `MAX_ENTRIES` versions, each count an integer in
[0, `MAX_COUNT`]; anything else is refused whole (`HealthReportError`).

Statement a server signs (`core.signing.sign_statement`, its identity key):

    {"v": 1, "kind": "component_health", "server_id", "server_key": <JWK>,
     "issued_at", "bucket": <effective bucket x 100, 0..9999>, "versions": [<entry>...]}

entry: {"component", "version", "clients", "loaded", "load_failures", "scans",
        "scan_errors", "crashes", "detections", "quarantines", "hours"}
(a client's entry has "loaded"/"load_failures" as 0 or 1 and "clients" 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KIND = "component_health"
MAX_ENTRIES = 16
MAX_COUNT = 1_000_000_000
MAX_BODY_BYTES = 16_384
COUNTS = (
    "clients",
    "loaded",
    "load_failures",
    "scans",
    "scan_errors",
    "crashes",
    "detections",
    "quarantines",
    "hours",
)
COMPONENTS = ("virus_pattern", "damage_cleanup_template", "spyware_pattern", "scan_engine")


class HealthReportError(ValueError):
    """A report that is not bounded or not well formed."""


@dataclass(frozen=True)
class HealthEntry:
    component: str
    version: int
    clients: int = 0
    loaded: int = 0
    load_failures: int = 0
    scans: int = 0
    scan_errors: int = 0
    crashes: int = 0
    detections: int = 0
    quarantines: int = 0
    hours: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def plus(self, other: HealthEntry) -> HealthEntry:
        counts = {name: getattr(self, name) + getattr(other, name) for name in COUNTS}
        return HealthEntry(self.component, self.version, **counts)


def _count(raw: dict[str, Any], name: str) -> int:
    value = raw.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise HealthReportError(f"{name} must be an integer in 0..{MAX_COUNT}")
    return value


def parse_entries(raw: object) -> list[HealthEntry]:
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise HealthReportError(f"versions: a list of at most {MAX_ENTRIES}")
    entries: list[HealthEntry] = []
    seen: set[tuple[str, int]] = set()
    for item in raw:
        if not isinstance(item, dict) or item.get("component") not in COMPONENTS:
            raise HealthReportError("each entry names a component")
        version = _count(item, "version")
        key = (str(item["component"]), version)
        if version < 1 or key in seen:
            raise HealthReportError("each version once, from 1")
        seen.add(key)
        counts = {name: _count(item, name) for name in COUNTS}
        entries.append(HealthEntry(key[0], version, **counts))
    return entries
