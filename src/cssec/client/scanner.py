"""ScanNow: scan with the components the client holds, then tell the server.

Scanning needs no server and no valid license (the FAQ keeps scanning working after
expiry). With `cleanup`, each infected file gets the damage cleanup template's action
(quarantine, delete or report; see cssec.client.cleanup, shared with `clean`); without it
nothing is touched and the virus log says "report", because it records what was done,
not what could have been. Files left in place are remembered for `clean`.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cssec.client.agent import ScanType
from cssec.client.cleanup import (
    ActionTaken,
    apply_cleanup,
    load_template,
    remember_detections,
)
from cssec.client.engine import Detection, ScanReport, ready_engine
from cssec.client.errors import ScanTargetMissing
from cssec.client.health import note_scan, note_scan_start
from cssec.client.install import agent_for
from cssec.client.reports import Delivery, flush_outbox, send_or_queue
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import CleanupAction
from cssec.core.errors import CssecError

if TYPE_CHECKING:
    import httpx


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


def virus_log_body(
    scan_type: ScanType, detections: list[Detection], actions: dict[str, ActionTaken]
) -> dict[str, Any]:
    return {"scan_type": scan_type, "detections": virus_log_entries(detections, actions)}


def scan_now(
    state: ClientState,
    target: Path,
    *,
    clock: Clock,
    lang: str,
    cleanup: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> ScanNowOutcome:
    """Scan `target`; raises ScanTargetMissing when it does not exist, NoComponents when
    there is no pattern to scan with."""
    if not target.exists() and not target.is_symlink():
        raise ScanTargetMissing(path=str(target))
    engine, components = ready_engine(state)
    run = note_scan_start(state) if state.is_installed() else None
    with run or nullcontext():
        outcome = ScanNowOutcome(report=engine.scan(target))
        detections = outcome.report.detections
        if cleanup and detections:
            template = load_template(components)
            outcome.actions = apply_cleanup(state, outcome.report, template, clock=clock)
    if state.is_installed():
        moved = sum(1 for a in outcome.actions.values() if a.quarantine_id is not None)
        note_scan(state, outcome.report, quarantined=moved)
    if state.is_installed():
        with state.lock():
            remember_detections(
                state,
                scanned=[target],
                detections=detections,
                actions=outcome.actions,
                scan_type="scan_now",
                clock=clock,
            )
    if state.is_installed() and (detections or state.load_outbox()):
        config = state.load_config()
        with state.lock(), agent_for(config, lang=lang, transport=transport, state=state) as agent:
            if detections:
                body = virus_log_body("scan_now", detections, outcome.actions)
                outcome.delivery, outcome.delivery_error = send_or_queue(
                    state, agent, "virus-log", body, clock=clock
                )
            else:
                flush_outbox(state, agent)  # earlier reports; still queued if this fails
    return outcome
