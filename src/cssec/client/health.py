"""This client's component health, per version, for its server (and through it the
vendor's staged rollouts: `core.health_report`).

Kept in `component_health.json`: per current component version, whether it loaded the last
time the engine was built, and counts since then (scans, scans with errors, crashes of the
scanner, detections, quarantines), each capped at `core.health_report.MAX_COUNT` so a long
lived client never sends a report the server refuses. Sent with every heartbeat
(`status.component_health`), at most one entry per component. Best effort: a failure to
write it never stops a scan.

ScanNow (manual and scheduled) and real-time scan both count: a ScanNow is one scan, each
file the real-time scan checks is one; a `clean` counts the files it quarantined. Each kind
of scanner has its own crash marker, so a real-time scan running beside a long ScanNow is
not mistaken for the ScanNow's crash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cssec.client.engine import IssueKind
from cssec.core.components import format_timestamp
from cssec.core.health_report import MAX_COUNT
from cssec.core.policy import Component

if TYPE_CHECKING:
    from cssec.client.engine import LoadedComponent, ScanEngine, ScanIssue, ScanReport
    from cssec.client.state import ClientState

DOC = "component_health.json"
SCANNING = "scan-in-progress"
ScannerKind = Literal["scan_now", "realtime"]
_MARKERS: dict[str, str] = {"scan_now": SCANNING, "realtime": f"{SCANNING}-realtime"}
_COUNTS = ("scans", "scan_errors", "crashes", "detections", "quarantines")
_COMPONENT_NAMES = frozenset(c.value for c in Component)


def _load(state: ClientState) -> dict[str, dict[str, Any]]:
    try:
        doc = state.load_doc(DOC)
    except (OSError, ValueError):
        return {}
    entries = doc.get("entries") if isinstance(doc, dict) else None
    return entries if isinstance(entries, dict) else {}


def _save(state: ClientState, entries: dict[str, dict[str, Any]]) -> None:
    try:
        state.save_doc(DOC, {"entries": entries})
    except OSError:
        return


def _current(state: ClientState) -> dict[Component, int]:
    try:
        installed = state.load_installed()
    except (OSError, ValueError):
        return {}
    return {c: v.version for c, v in installed.current.items()}


def note_engine(
    state: ClientState, engine: ScanEngine, components: Mapping[Component, LoadedComponent]
) -> None:
    """After the engine was built: each current version loaded, or failed to (fell back,
    missing, did not compile)."""
    failed = {issue.path for issue in engine.load_issues}
    entries = _load(state)
    kept: dict[str, dict[str, Any]] = {}
    for component, version in _current(state).items():
        key = f"{component.value}:{version}"
        entry = entries.get(key, dict.fromkeys(_COUNTS, 0))
        held = components.get(component)
        ok = held is not None and held.version == version and component.value not in failed
        entry["loaded"] = 1 if ok else 0
        kept[key] = entry
    _save(state, kept)


def _version_of(key: str) -> tuple[Component, int] | None:
    component, _, version = key.partition(":")
    try:
        return Component(component), int(version)
    except ValueError:
        return None


def _add(entry: dict[str, Any], name: str, amount: int) -> None:
    try:
        held = int(entry.get(name, 0))
    except (TypeError, ValueError):
        held = 0
    entry[name] = max(0, min(MAX_COUNT, held + amount))


def note_scan_start(state: ClientState, *, kind: ScannerKind = "scan_now") -> None:
    """Before a scan: a marker that `note_scan` removes. A marker still there at the next
    start of the same kind of scanner means it died in between (a crash, counted for the
    current versions)."""
    marker = state.root / _MARKERS[kind]
    crashed = marker.exists()
    try:
        marker.write_text("scanning\n", encoding="utf-8")
    except OSError:
        return
    if crashed:
        entries = _load(state)
        for entry in entries.values():
            _add(entry, "crashes", 1)
        _save(state, entries)


def _scan_error(issue: ScanIssue) -> bool:
    """A problem scanning a file, not loading a component (counted by `note_engine`), nor
    a file gone before it was read (real-time scan sees short-lived files go)."""
    return issue.path not in _COMPONENT_NAMES and issue.kind is not IssueKind.NOT_FOUND


def note_scan(
    state: ClientState,
    report: ScanReport,
    *,
    quarantined: int = 0,
    kind: ScannerKind = "scan_now",
) -> None:
    """After a scan with the current components."""
    note_scans(state, [report], quarantined=quarantined, kind=kind)


def note_scans(
    state: ClientState,
    reports: Sequence[ScanReport],
    *,
    quarantined: int = 0,
    kind: ScannerKind = "scan_now",
) -> None:
    """After scans, one write for all of them (the real-time scan notes each batch of
    settled files, one report per file). A version counts only the scans it took part in:
    while the current pattern fails to load, the previous one scans, and the current
    version's entry shows the load failure, not the other's work."""
    (state.root / _MARKERS[kind]).unlink(missing_ok=True)
    if not reports:
        return
    entries = _load(state)
    errors = sum(1 for r in reports if any(_scan_error(i) for i in r.issues))
    for key, entry in entries.items():
        held = _version_of(key)
        if held is None:
            continue
        counted = [r for r in reports if r.versions.get(held[0]) == held[1]]
        if not counted:
            continue
        _add(entry, "scans", len(counted))
        _add(entry, "scan_errors", errors)
        _add(entry, "detections", sum(len(r.detections) for r in counted))
        _add(entry, "quarantines", quarantined)
    _save(state, entries)


def note_quarantines(state: ClientState, versions: Mapping[Component, int], count: int) -> None:
    """Files a `clean` quarantined (the detections of a real-time scan, or ones ScanNow
    left in place), counted for the versions that found them again (`ScanReport.versions`)."""
    if count <= 0:
        return
    entries = _load(state)
    for key, entry in entries.items():
        held = _version_of(key)
        if held is not None and versions.get(held[0]) == held[1]:
            _add(entry, "quarantines", count)
    _save(state, entries)


def health_status(state: ClientState, now: datetime) -> list[dict[str, Any]]:
    """The heartbeat's `component_health`: one entry per current version (its client-hours
    counted from the first heartbeat that carried it)."""
    entries = _load(state)
    out: list[dict[str, Any]] = []
    changed = False
    for key, entry in entries.items():
        component, _, version = key.partition(":")
        since = entry.get("since")
        if not isinstance(since, str):
            entry["since"] = since = format_timestamp(now)
            changed = True
        try:
            started = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            started = now
        hours = max(1, math.ceil((now - started).total_seconds() / 3600))
        loaded = int(entry.get("loaded", 0))
        out.append({
            "component": component, "version": int(version), "clients": 1,
            "loaded": loaded, "load_failures": 1 - loaded, "hours": hours,
            **{name: max(0, min(MAX_COUNT, int(entry.get(name, 0)))) for name in _COUNTS},
        })  # fmt: skip
    if changed:
        _save(state, entries)
    return out[: len(Component)]
