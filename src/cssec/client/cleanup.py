"""Damage Cleanup Services: apply the damage cleanup template to infected files.

One implementation serves `scan --cleanup`, `clean` and the server's cleanup requests:
each infected file gets the most severe action its threats call for (quarantine, delete
or report), and only if it still is the file that was scanned. It runs in every license
state: the client asks the server nothing before cleaning (the FAQ keeps Damage Cleanup
Services working after expiry); the server decides what to log.

The detections not cleaned yet (found by ScanNow or real-time scan, left in place) are
kept in detections.json; `clean` without a path cleans those.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cssec.client.agent import AgentClient
from cssec.client.engine import (
    Detection,
    LoadedComponent,
    ScanReport,
    ready_engine,
    scan_targets,
)
from cssec.client.health import note_quarantines
from cssec.client.install import agent_for
from cssec.client.quarantine import discard, quarantine_file
from cssec.client.reports import Delivery, send_or_queue
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import (
    CleanupAction,
    CleanupTemplate,
    format_timestamp,
    parse_cleanup_template,
    sha256_hex,
)
from cssec.core.errors import CssecError
from cssec.core.policy import Component

if TYPE_CHECKING:
    import httpx

DETECTIONS_DOC = "detections.json"
DETECTIONS_LIMIT = 1000
_SEVERITY = {CleanupAction.REPORT: 0, CleanupAction.QUARANTINE: 1, CleanupAction.DELETE: 2}
_RESULTS = {
    CleanupAction.QUARANTINE: "quarantined",
    CleanupAction.DELETE: "deleted",
    CleanupAction.REPORT: "reported",
}


@dataclass(frozen=True)
class ActionTaken:
    path: str
    action: CleanupAction
    """What was actually done: REPORT when nothing was (no cleanup, or it failed)."""
    wanted: CleanupAction
    threat: str = ""
    sha256: str = ""
    target: str | None = None
    quarantine_id: str | None = None
    error: str | None = None

    @property
    def result(self) -> str:
        """The cleanup-result action: quarantined, deleted, reported or failed."""
        return "failed" if self.error is not None else _RESULTS[self.action]

    @property
    def file_left(self) -> bool:
        return self.action is CleanupAction.REPORT


def load_template(components: Mapping[Component, LoadedComponent]) -> CleanupTemplate | None:
    """The damage cleanup template the client holds (None: quarantine everything)."""
    loaded = components.get(Component.DAMAGE_CLEANUP_TEMPLATE)
    return parse_cleanup_template(loaded.data).value if loaded else None


def _unchanged(path: str, sha256: str) -> tuple[bytes, int] | None:
    """The file's bytes and mode if it still is the file that was scanned (not a symlink)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        data = handle.read() if stat.S_ISREG(mode) else b""
    return (data, mode) if stat.S_ISREG(mode) and sha256_hex(data) == sha256 else None


def _apply(
    state: ClientState, detection: Detection, wanted: CleanupAction, clock: Clock
) -> ActionTaken:
    path = detection.path
    base = ActionTaken(path, CleanupAction.REPORT, wanted, detection.threat, detection.sha256)
    if wanted is CleanupAction.REPORT:
        return base
    try:
        found = _unchanged(path, detection.sha256)
    except OSError as exc:
        return _failed(base, exc)
    if found is None:
        return replace(base, error="changed since scan")
    data, mode = found
    record = None
    try:
        if wanted is CleanupAction.QUARANTINE:
            record = quarantine_file(
                state,
                original_path=path,
                data=data,
                threat=detection.threat,
                mode=mode,
                clock=clock,
            )
        os.unlink(path)
    except OSError as exc:
        if record is not None:
            discard(state, record.id)
        return _failed(base, exc)
    target = str(state.quarantine_dir / record.id) if record else None
    quarantine_id = record.id if record else None
    return ActionTaken(
        path, wanted, wanted, detection.threat, detection.sha256, target, quarantine_id
    )


def _failed(base: ActionTaken, exc: OSError) -> ActionTaken:
    return replace(base, error=exc.strerror or str(exc))


def apply_cleanup(
    state: ClientState, report: ScanReport, template: CleanupTemplate | None, *, clock: Clock
) -> dict[str, ActionTaken]:
    """One action per infected file: the most severe its threats call for."""
    wanted: dict[str, tuple[CleanupAction, Detection]] = {}
    for detection in report.detections:
        action = template.action_for(detection.threat) if template else CleanupAction.QUARANTINE
        known = wanted.get(detection.path)
        if known is None or _SEVERITY[action] > _SEVERITY[known[0]]:
            wanted[detection.path] = (action, detection)
    return {path: _apply(state, det, action, clock) for path, (action, det) in wanted.items()}


# --- detections not cleaned yet ---------------------------------------------------------


def outstanding(state: ClientState) -> list[dict[str, Any]]:
    doc = state.load_doc(DETECTIONS_DOC)
    entries = doc.get("entries") if doc else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]


def _under(path: str, roots: Iterable[Path]) -> bool:
    return any(Path(path) == root or root in Path(path).parents for root in roots)


def remember_detections(
    state: ClientState,
    *,
    scanned: Iterable[Path],
    detections: list[Detection],
    actions: Mapping[str, ActionTaken],
    scan_type: str,
    clock: Clock,
) -> None:
    """What was scanned now replaces what was known of it; files left in place are kept."""
    roots = [Path(os.path.abspath(p)) for p in scanned]
    kept = [e for e in outstanding(state) if not _under(e["path"], roots)]
    seen = {e["path"] for e in kept}
    for detection in detections:
        taken = actions.get(detection.path)
        if detection.path in seen or (taken is not None and not taken.file_left):
            continue
        seen.add(detection.path)
        kept.append(
            {
                "path": detection.path,
                "threat": detection.threat,
                "sha256": detection.sha256,
                "scan_type": scan_type,
                "at": format_timestamp(clock.now()),
            }
        )
    state.save_doc(DETECTIONS_DOC, {"entries": kept[-DETECTIONS_LIMIT:]})


# --- clean ------------------------------------------------------------------------------


@dataclass
class CleanupOutcome:
    report: ScanReport
    targets: list[Path]
    request_id: int | None = None
    actions: dict[str, ActionTaken] = field(default_factory=dict)
    delivery: Delivery | None = None
    delivery_error: CssecError | None = None

    @property
    def exit_code(self) -> int:
        """0 every file got its template's action (or nothing was found), 1 some could not
        be cleaned, 2 the scan had errors."""
        if any(a.error is not None for a in self.actions.values()):
            return 1
        return 2 if self.report.issues else 0


def cleanup_result_body(outcome: CleanupOutcome) -> dict[str, Any]:
    return {
        "request_id": outcome.request_id,
        "results": [
            {
                "path": taken.path,
                "threat": taken.threat,
                "action": taken.result,
                "sha256": taken.sha256,
                "quarantine_id": taken.quarantine_id,
                "detail": taken.error or taken.target or "",
            }
            for taken in outcome.actions.values()
        ],
    }


def clean_files(
    state: ClientState,
    paths: list[Path] | None,
    *,
    clock: Clock,
    lang: str,
    request_id: int | None = None,
    agent: AgentClient | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CleanupOutcome:
    """Scan `paths` (None: the detections not cleaned yet), apply the template, report.

    Raises NoComponents when there is no pattern to scan with. The result goes to the
    server's cleanup-result (queued when unreachable) when something was found or the
    server asked for the cleanup.
    """
    engine, components = ready_engine(state)
    if paths is None:
        targets = sorted({Path(e["path"]) for e in outstanding(state) if Path(e["path"]).exists()})
    else:
        targets = [Path(os.path.abspath(p)) for p in paths]
    outcome = CleanupOutcome(
        report=scan_targets(engine, targets), targets=targets, request_id=request_id
    )
    outcome.actions = apply_cleanup(state, outcome.report, load_template(components), clock=clock)
    if state.is_installed():  # the detections were counted when found; the quarantines now
        moved = sum(1 for a in outcome.actions.values() if a.quarantine_id is not None)
        note_quarantines(state, outcome.report.versions, moved)
    with state.lock():
        scanned = targets if paths is not None else [Path(e["path"]) for e in outstanding(state)]
        remember_detections(
            state,
            scanned=scanned,
            detections=outcome.report.detections,
            actions=outcome.actions,
            scan_type="cleanup",
            clock=clock,
        )
    if not state.is_installed() or not (outcome.actions or request_id is not None):
        return outcome
    body = cleanup_result_body(outcome)
    with state.lock():
        if agent is not None:
            sent = send_or_queue(state, agent, "cleanup-result", body, clock=clock)
        else:
            with agent_for(state.load_config(), lang=lang, transport=transport, state=state) as own:
                sent = send_or_queue(state, own, "cleanup-result", body, clock=clock)
    outcome.delivery, outcome.delivery_error = sent
    return outcome
