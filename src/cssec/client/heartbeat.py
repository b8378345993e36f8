"""One heartbeat: tell the server how this client is, and do what its answer says.

The answer (issue-6 contract) carries the administrator's real-time scan switch and
folders (recorded in server_settings.json for `watch` and `status`, and used offline),
the outbreak prevention policy (recorded and reported applied, see cssec.client.outbreak)
and Damage Cleanup requests (each run once, its result posted to cleanup-result). Queued
reports are sent first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cssec import __version__
from cssec.client.agent import AgentClient
from cssec.client.errors import ServerError
from cssec.client.health import health_status
from cssec.client.outbreak import (
    OutbreakPolicy,
    PolicyChange,
    apply_policy,
    load_policy,
    report_unusable_policy,
)
from cssec.client.reports import flush_outbox
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import format_timestamp
from cssec.core.errors import CssecError

if TYPE_CHECKING:
    from cssec.client.cleanup import CleanupOutcome
    from cssec.client.wire import CleanupRequestIn

SETTINGS_DOC = "server_settings.json"
LICENSE_DOC = "license.json"
"""The C/S Sec. license as the server told it at the last heartbeat (`status` shows it)."""
REQUESTS_DOC = "cleanup_requests.json"
DONE_REQUESTS_LIMIT = 200
DEFAULT_INTERVAL = 60.0
"""Seconds between the heartbeats of `cssec client watch`."""


@dataclass(frozen=True)
class ServerSettings:
    """What the server said last about real-time scan."""

    realtime_scan: bool
    realtime_folders: tuple[str, ...] | None
    """None: the client's own folders (watch --path)."""
    received_at: datetime | None


def load_settings(state: ClientState) -> ServerSettings | None:
    doc = state.load_doc(SETTINGS_DOC)
    if doc is None or not isinstance(doc.get("realtime_scan"), bool):
        return None
    folders = doc.get("realtime_folders")
    try:
        received_at = datetime.fromisoformat(str(doc.get("received_at")))
    except ValueError:
        received_at = None
    return ServerSettings(
        realtime_scan=doc["realtime_scan"],
        realtime_folders=tuple(str(f) for f in folders) if isinstance(folders, list) else None,
        received_at=received_at,
    )


def _save_settings(state: ClientState, settings: ServerSettings) -> None:
    state.save_doc(
        SETTINGS_DOC,
        {
            "realtime_scan": settings.realtime_scan,
            "realtime_folders": (
                list(settings.realtime_folders) if settings.realtime_folders is not None else None
            ),
            "received_at": format_timestamp(settings.received_at) if settings.received_at else None,
        },
    )


def _done_requests(state: ClientState) -> list[int]:
    doc = state.load_doc(REQUESTS_DOC) or {}
    done = doc.get("done")
    return [i for i in done if type(i) is int] if isinstance(done, list) else []


@dataclass
class HeartbeatOutcome:
    settings: ServerSettings
    policy: PolicyChange | None = None
    policy_error: str | None = None
    """Why the server's outbreak policy could not be used (reported not applied)."""
    cleanups: list[CleanupOutcome] = field(default_factory=list)
    cleanup_errors: list[tuple[int, CssecError]] = field(default_factory=list)


def status_body(state: ClientState, *, realtime_running: bool) -> dict[str, Any]:
    recorded = load_policy(state)
    return {
        "agent_version": __version__,
        "realtime_scan_running": realtime_running,
        "outbreak_policy_id": recorded.policy.id if recorded else None,
        "outbreak_policy_applied": bool(recorded and recorded.applied and recorded.policy.deployed),
    }


def send_heartbeat(
    state: ClientState,
    agent: AgentClient,
    *,
    clock: Clock,
    lang: str,
    realtime_running: bool = False,
    run_cleanups: bool = True,
) -> HeartbeatOutcome:
    """One heartbeat. Raises the CssecError of the heartbeat itself (e.g. unreachable);
    what goes wrong afterwards (a cleanup that cannot scan) is in the outcome."""
    from pydantic import ValidationError  # noqa: PLC0415 - `status` reads settings only

    from cssec.client.wire import HeartbeatIn  # noqa: PLC0415

    status = status_body(state, realtime_running=realtime_running)
    status["component_health"] = health_status(state, clock.now())
    raw = agent.heartbeat(status)
    try:
        answer = HeartbeatIn.model_validate(raw)
    except ValidationError as exc:
        detail = f"heartbeat response: {exc.error_count()} invalid field(s)"
        raise ServerError(detail=detail) from None
    settings = ServerSettings(
        realtime_scan=answer.realtime_scan,
        realtime_folders=tuple(answer.realtime_folders)
        if answer.realtime_folders is not None
        else None,
        received_at=clock.now(),
    )
    outcome = HeartbeatOutcome(settings)
    with state.lock():
        _save_settings(state, settings)
        if answer.license is not None:
            state.save_doc(
                LICENSE_DOC,
                {
                    "state": answer.license.state,
                    "expires_on": answer.license.expires_on.isoformat()
                    if answer.license.expires_on
                    else None,
                    "received_at": format_timestamp(clock.now()),
                },
            )
        flush_outbox(state, agent)
        if answer.outbreak_policy is not None:
            try:
                policy = OutbreakPolicy.parse(answer.outbreak_policy)
            except ValueError as exc:
                outcome.policy_error = str(exc)
                report_unusable_policy(state, agent, answer.outbreak_policy, str(exc), clock=clock)
            else:
                outcome.policy = apply_policy(state, agent, policy, clock=clock, lang=lang)
    if run_cleanups:
        _run_cleanups(state, agent, answer.cleanup_requests, outcome, clock=clock, lang=lang)
    return outcome


def _run_cleanups(
    state: ClientState,
    agent: AgentClient,
    requests: list[CleanupRequestIn],
    outcome: HeartbeatOutcome,
    *,
    clock: Clock,
    lang: str,
) -> None:
    from cssec.client.cleanup import clean_files  # noqa: PLC0415 - the scan engine (yara)

    for request in requests:
        if request.id in _done_requests(state):
            continue
        paths = [Path(p) for p in request.paths] if request.paths is not None else None
        try:
            cleanup = clean_files(
                state, paths, clock=clock, lang=lang, request_id=request.id, agent=agent
            )
        except CssecError as exc:
            outcome.cleanup_errors.append((request.id, exc))
            continue
        outcome.cleanups.append(cleanup)
        with state.lock():
            done = [*_done_requests(state), request.id]
            state.save_doc(REQUESTS_DOC, {"done": done[-DONE_REQUESTS_LIMIT:]})
