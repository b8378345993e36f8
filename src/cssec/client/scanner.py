"""ScanNow: scan with the components the client holds, then tell the server.

Scanning needs no server and no valid license (the FAQ keeps scanning working after
expiry). With `cleanup`, each infected file gets the damage cleanup template's action
(quarantine, delete or report); without it nothing is touched and the virus log says
"report", because it records what was done, not what could have been.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cssec.client.engine import (
    PATTERN_COMPONENTS,
    Detection,
    ScanEngine,
    ScanReport,
    load_components,
)
from cssec.client.errors import NoComponents
from cssec.client.install import agent_for
from cssec.client.reports import Delivery, flush_outbox, send_or_queue
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import CleanupAction, CleanupTemplate, parse_cleanup_template
from cssec.core.components import sha256_hex as _sha256
from cssec.core.errors import CssecError
from cssec.core.policy import Component
from cssec.core.signing import write_secret_file

_SEVERITY = {CleanupAction.REPORT: 0, CleanupAction.QUARANTINE: 1, CleanupAction.DELETE: 2}


@dataclass(frozen=True)
class ActionTaken:
    path: str
    action: CleanupAction
    """What was actually done: REPORT when nothing was (no cleanup, or it failed)."""
    wanted: CleanupAction
    target: str | None = None
    error: str | None = None


@dataclass
class ScanNowOutcome:
    report: ScanReport
    actions: dict[str, ActionTaken] = field(default_factory=dict)
    delivery: Delivery | None = None
    """None when there was nothing to send or no server is configured."""
    delivery_error: CssecError | None = None

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


def virus_log_entries(
    detections: list[Detection], actions: dict[str, ActionTaken]
) -> list[dict[str, Any]]:
    entries = []
    for detection in detections:
        taken = actions.get(detection.path)
        entries.append(
            {
                "path": detection.path,
                "threat": detection.threat,
                "component": detection.component.value,
                "component_version": detection.component_version,
                "rule": detection.rule,
                "sha256": detection.sha256,
                "action": (taken.action if taken else CleanupAction.REPORT).value,
            }
        )
    return entries


def _unchanged_bytes(path: str, sha256: str) -> bytes | None:
    """The file's bytes if it still is the file that was scanned (and not a symlink)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    return data if _sha256(data) == sha256 else None


def _apply(state: ClientState, detection: Detection, wanted: CleanupAction) -> ActionTaken:
    path = detection.path
    if wanted is CleanupAction.REPORT:
        return ActionTaken(path, CleanupAction.REPORT, wanted)
    try:
        data = _unchanged_bytes(path, detection.sha256)
        if data is None:
            return ActionTaken(path, CleanupAction.REPORT, wanted, error="changed since scan")
        target = None
        if wanted is CleanupAction.QUARANTINE:
            state.quarantine_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            quarantined = state.quarantine_dir / detection.sha256
            write_secret_file(quarantined, data)
            target = str(quarantined)
        os.unlink(path)
    except OSError as exc:
        return ActionTaken(path, CleanupAction.REPORT, wanted, error=exc.strerror or str(exc))
    return ActionTaken(path, wanted, wanted, target=target)


def apply_cleanup(
    state: ClientState, report: ScanReport, template: CleanupTemplate | None
) -> dict[str, ActionTaken]:
    """One action per infected file: the most severe its threats call for."""
    wanted: dict[str, tuple[CleanupAction, Detection]] = {}
    for detection in report.detections:
        action = template.action_for(detection.threat) if template else CleanupAction.QUARANTINE
        known = wanted.get(detection.path)
        if known is None or _SEVERITY[action] > _SEVERITY[known[0]]:
            wanted[detection.path] = (action, detection)
    return {path: _apply(state, det, action) for path, (action, det) in wanted.items()}


def scan_now(
    state: ClientState,
    target: Path,
    *,
    clock: Clock,
    lang: str,
    cleanup: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> ScanNowOutcome:
    """Scan `target`; raises NoComponents when there is no pattern to scan with."""
    components, notes = load_components(state)
    engine = ScanEngine.from_components(components)
    engine.load_warnings.extend(notes)
    if not any(c in components for c in PATTERN_COMPONENTS) or not engine.has_rules:
        problems = notes + [f"{i.path}: {i.detail}" for i in engine.load_issues]
        reason = "; ".join(problems) if components else "no components installed"
        raise NoComponents(reason=reason, dir=str(state.root))
    outcome = ScanNowOutcome(report=engine.scan(target))
    if cleanup and outcome.report.detections:
        template_file = components.get(Component.DAMAGE_CLEANUP_TEMPLATE)
        template = parse_cleanup_template(template_file.data).value if template_file else None
        outcome.actions = apply_cleanup(state, outcome.report, template)
    detections = outcome.report.detections
    if state.is_installed() and (detections or state.load_outbox()):
        config = state.load_config()
        with state.lock(), agent_for(config, lang=lang, transport=transport) as agent:
            if detections:
                body = {
                    "scan_type": "scan_now",
                    "detections": virus_log_entries(detections, outcome.actions),
                }
                outcome.delivery, outcome.delivery_error = send_or_queue(
                    state, agent, "virus-log", body, clock=clock
                )
            else:
                flush_outbox(state, agent)  # earlier reports; still queued if this fails
    return outcome
