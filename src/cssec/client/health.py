"""This client's component health, per version, for its server (and through it the
vendor's staged rollouts: `core.health_report`).

Kept in `component_health.json`: per current component version, whether it loaded the last
time the engine was built, and counts since then (scans, scans with errors, crashes of the
scanner, detections, quarantines). Sent with every heartbeat (`status.component_health`),
at most one entry per component. Best effort: a failure to write it never stops a scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cssec.core.components import format_timestamp
from cssec.core.policy import Component

if TYPE_CHECKING:
    from cssec.client.engine import LoadedComponent, ScanEngine, ScanReport
    from cssec.client.state import ClientState

DOC = "component_health.json"
SCANNING = "scan-in-progress"
_COUNTS = ("scans", "scan_errors", "crashes", "detections", "quarantines")


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


def note_scan_start(state: ClientState) -> None:
    """Before a scan: a marker that `note_scan` removes. A marker still there at the next
    start means the scanner died in between (a crash, counted for the current versions)."""
    marker = state.root / SCANNING
    crashed = marker.exists()
    try:
        marker.write_text("scanning\n", encoding="utf-8")
    except OSError:
        return
    if crashed:
        entries = _load(state)
        for entry in entries.values():
            entry["crashes"] = int(entry.get("crashes", 0)) + 1
        _save(state, entries)


def note_scan(state: ClientState, report: ScanReport, *, quarantined: int = 0) -> None:
    """After a scan with the current components."""
    (state.root / SCANNING).unlink(missing_ok=True)
    entries = _load(state)
    errors = 1 if any(i.path not in {c.value for c in Component} for i in report.issues) else 0
    for key, entry in entries.items():
        component = key.partition(":")[0]
        if report.versions.get(Component(component)) is None:
            continue
        entry["scans"] = int(entry.get("scans", 0)) + 1
        entry["scan_errors"] = int(entry.get("scan_errors", 0)) + errors
        entry["detections"] = int(entry.get("detections", 0)) + len(report.detections)
        entry["quarantines"] = int(entry.get("quarantines", 0)) + quarantined
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
            **{name: int(entry.get(name, 0)) for name in _COUNTS},
        })  # fmt: skip
    if changed:
        _save(state, entries)
    return out[: len(Component)]
