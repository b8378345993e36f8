"""This client's component health, per version, for its server (and through it the
vendor's staged rollouts: `core.health_report`).

Kept in `component_health.json`: per current component version, whether it loaded the last
time the engine was built, and counts since then (scans, scans with errors, crashes of the
scanner, detections, quarantines), each capped at `core.health_report.MAX_COUNT` so a long
lived client never sends a report the server refuses. Sent with every heartbeat
(`status.component_health`), at most one entry per component. Best effort: a failure to
write it never stops a scan.

ScanNow (manual and scheduled) and real-time scan both count: a ScanNow is one scan, each
file the real-time scan checks is one; a `clean` counts the files it quarantined. Each scan
run has its own crash marker in `scans-in-progress/`, locked (flock) for as long as the run
lives: a marker whose lock is free belongs to a run that died, whatever ran beside it (two
ScanNows at once, a real-time scan beside a long ScanNow), and is counted once, by whoever
removes it. The lock dies with its process, so no process id is trusted to mean the same
process later. On Windows the markers are not locked and no crash is counted.
"""

from __future__ import annotations

import math
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from cssec.client.engine import IssueKind
from cssec.core.components import format_timestamp
from cssec.core.health_report import MAX_COUNT
from cssec.core.policy import Component

if TYPE_CHECKING:
    from cssec.client.engine import LoadedComponent, ScanEngine, ScanIssue, ScanReport
    from cssec.client.state import ClientState

DOC = "component_health.json"
SCANNING_DIR = "scans-in-progress"
ScannerKind = Literal["scan_now", "realtime"]
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


if sys.platform == "win32":  # pragma: no cover - no flock: markers are never judged dead

    def _lock(fd: int, *, wait: bool) -> bool:
        return wait

else:
    import fcntl

    def _lock(fd: int, *, wait: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class ScanRun:
    """One scan run's marker, locked while the run lives. Held with `with`: an exception
    that leaves it is the run dying, so the marker stays for the next start to count."""

    def __init__(self, marker: Path, fd: int) -> None:
        self.marker = marker
        self._fd: int | None = fd

    def finish(self) -> None:
        """The run ended: its marker goes (before its lock, so no one sees it dead)."""
        if self._fd is None:
            return
        self.marker.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ScanRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        else:
            self._release()


def _mark(directory: Path, kind: ScannerKind) -> ScanRun | None:
    """A new marker, locked before it takes its name: never seen unlocked while its run lives."""
    name = f"{kind}-{secrets.token_hex(8)}"
    partial = directory / f".{name}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        _lock(fd, wait=True)
        os.rename(partial, directory / name)
    except OSError:
        os.close(fd)
        partial.unlink(missing_ok=True)
        return None
    return ScanRun(directory / name, fd)


def _claim_dead(directory: Path) -> int:
    """Remove the markers of runs that died; how many this call removed (each once: of
    two starts that find the same dead marker, only one unlinks it)."""
    try:
        markers = [m for m in directory.iterdir() if not m.name.startswith(".")]
    except OSError:
        return 0
    dead = 0
    for marker in markers:
        try:
            fd = os.open(marker, os.O_RDONLY)
        except OSError:
            continue  # finished (or claimed) meanwhile
        try:
            if not _lock(fd, wait=False):
                continue  # its run is alive
            marker.unlink()
        except OSError:
            continue
        finally:
            os.close(fd)
        dead += 1
    return dead


def note_scan_start(state: ClientState, *, kind: ScannerKind = "scan_now") -> ScanRun | None:
    """Before a scan: this run's marker, to hold with `with` around the scan (leaving it
    removes the marker, unless by an exception); None when it cannot be written (health is
    best effort). Each earlier run whose marker is still there but no longer locked died (a
    crash, counted for the current versions)."""
    directory = state.root / SCANNING_DIR
    crashed = _claim_dead(directory)
    run = _mark(directory, kind)
    if crashed:
        entries = _load(state)
        for entry in entries.values():
            _add(entry, "crashes", crashed)
        _save(state, entries)
    return run


def _scan_error(issue: ScanIssue) -> bool:
    """A problem scanning a file, not loading a component (counted by `note_engine`), nor
    a file gone before it was read (real-time scan sees short-lived files go)."""
    return issue.path not in _COMPONENT_NAMES and issue.kind is not IssueKind.NOT_FOUND


def note_scan(
    state: ClientState,
    report: ScanReport,
    *,
    quarantined: int = 0,
) -> None:
    """After a scan with the current components."""
    note_scans(state, [report], quarantined=quarantined)


def note_scans(
    state: ClientState,
    reports: Sequence[ScanReport],
    *,
    quarantined: int = 0,
) -> None:
    """After scans, one write for all of them (the real-time scan notes each batch of
    settled files, one report per file). A version counts only the scans it took part in:
    while the current pattern fails to load, the previous one scans, and the current
    version's entry shows the load failure, not the other's work."""
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
