"""`cssec client watch` (real-time scan), `cssec client heartbeat`, and what `status` adds:
the real-time switch, the outbreak prevention policy, quarantine and open detections."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from cssec.cli_warnings import said_warnings
from cssec.client.cleanup import outstanding
from cssec.client.cli_common import DIR_OPTION, fail, lang_of, system_clock
from cssec.client.heartbeat import (
    DEFAULT_INTERVAL,
    HeartbeatOutcome,
    load_settings,
    send_heartbeat,
)
from cssec.client.install import agent_for
from cssec.client.messages import local_time, text
from cssec.client.outbreak import load_policy, load_violations
from cssec.client.quarantine import list_quarantine
from cssec.client.state import ClientState
from cssec.core.components import format_timestamp
from cssec.core.errors import CssecError


def _say(lang: str) -> Any:
    def notify(key: str, *, err: bool = False, **values: object) -> None:
        typer.echo(text(key, lang, **values), err=err)

    return notify


def watch(
    ctx: typer.Context,
    directory: Path = DIR_OPTION,
    paths: list[Path] = typer.Option(
        [], "--path", help="A folder to watch (repeatable); the server's folders win if set."
    ),
    interval: float = typer.Option(
        DEFAULT_INTERVAL, "--interval", min=1.0, help="Seconds between heartbeats."
    ),
) -> None:
    """Real-time scan: scan files as they are created or changed; Ctrl-C stops."""
    from cssec.client.watch import WatchService  # noqa: PLC0415 - watchdog: only this command

    lang = lang_of(ctx)
    state = ClientState(directory)
    with said_warnings():  # now, not when it stops
        try:
            agent = agent_for(state.load_config(), lang=lang, state=state)
        except CssecError as exc:
            fail(exc.message(lang), error=exc)
    with agent:
        try:
            service = WatchService(
                state,
                agent,
                own_folders=paths,
                clock=system_clock(),
                lang=lang,
                interval=interval,
                notify=_say(lang),
            )
            service.start()
        except CssecError as exc:
            fail(exc.message(lang), 2, error=exc)
        stop = threading.Event()
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main else None
        try:
            service.loop(stop)
        except KeyboardInterrupt:
            pass
        finally:
            service.close()
            if in_main:
                signal.signal(signal.SIGTERM, previous)
    typer.echo(text("watch.stopped", lang))


def print_heartbeat(outcome: HeartbeatOutcome, lang: str) -> None:
    settings = outcome.settings
    folders = (
        ", ".join(settings.realtime_folders)
        if settings.realtime_folders is not None
        else text("heartbeat.own_folders", lang)
    )
    realtime = text("on" if settings.realtime_scan else "off", lang)
    typer.echo(text("heartbeat.ok", lang, realtime=realtime, folders=folders))
    if outcome.policy is not None and outcome.policy.changed:
        policy = outcome.policy.recorded.policy
        typer.echo(text(f"heartbeat.policy_{policy.action.value}", lang, id=policy.id))
    if outcome.policy_error is not None:
        typer.echo(text("heartbeat.policy_unusable", lang, reason=outcome.policy_error), err=True)
    for cleanup in outcome.cleanups:
        count = len(cleanup.actions)
        typer.echo(text("heartbeat.cleanup_ran", lang, id=cleanup.request_id, count=count))
    for request_id, error in outcome.cleanup_errors:
        message = error.message(lang)
        typer.echo(text("heartbeat.cleanup_failed", lang, id=request_id, message=message), err=True)


def heartbeat(ctx: typer.Context, directory: Path = DIR_OPTION) -> None:
    """One heartbeat: learn the server's settings, apply its outbreak policy, run cleanups."""
    lang = lang_of(ctx)
    state = ClientState(directory)
    try:
        with agent_for(state.load_config(), lang=lang, state=state) as agent:
            outcome = send_heartbeat(state, agent, clock=system_clock(), lang=lang)
    except CssecError as exc:
        fail(exc.message(lang), error=exc)
    print_heartbeat(outcome, lang)
    if outcome.cleanup_errors:
        raise typer.Exit(1)


# --- status -----------------------------------------------------------------------------


def protection_data(state: ClientState, lang: str) -> dict[str, Any]:
    settings = load_settings(state)
    recorded = load_policy(state)
    total, violations = load_violations(state)
    policy: dict[str, Any] | None = None
    if recorded is not None:
        policy = {
            **recorded.policy.to_dict(),
            "recorded_at": format_timestamp(recorded.recorded_at),
            "applied": recorded.applied,
            "reported": recorded.reported,
            "scope": text("outbreak.scope", lang),
        }
    return {
        "realtime": None
        if settings is None
        else {
            "on": settings.realtime_scan,
            "folders": list(settings.realtime_folders)
            if settings.realtime_folders is not None
            else None,
            "received_at": format_timestamp(settings.received_at) if settings.received_at else None,
        },
        "outbreak_policy": policy,
        "violations": {"total": total, "latest": violations[-5:]},
        "quarantined": len(list_quarantine(state)),
        "detections_not_cleaned": len(outstanding(state)),
    }


def print_protection(data: dict[str, Any], lang: str) -> None:
    none = text("none", lang)
    realtime = data["realtime"]
    if realtime is None:
        typer.echo(text("status.realtime_unknown", lang))
    else:
        folders = realtime["folders"]
        shown = ", ".join(folders) if folders is not None else text("heartbeat.own_folders", lang)
        value = text("on" if realtime["on"] else "off", lang)
        at = local_time(realtime["received_at"], none)
        typer.echo(text("status.realtime", lang, value=value, folders=shown, at=at))
    policy = data["outbreak_policy"]
    if policy is None:
        typer.echo(text("status.outbreak_none", lang))
    else:
        reported = text("yes" if policy["reported"] else "no", lang)
        key = f"status.outbreak_{policy['action']}"
        typer.echo(
            text(
                key,
                lang,
                id=policy["id"],
                issued_at=local_time(policy["issued_at"]),
                at=local_time(policy["recorded_at"]),
                reported=reported,
            )
        )
        if policy["action"] == "deploy":
            shares = ", ".join(policy["deny_write_shares"]) or none
            ports = ", ".join(map(str, policy["block_ports"])) or none
            files = ", ".join(policy["deny_files"]) or none
            typer.echo(text("status.outbreak_shares", lang, value=shares))
            typer.echo(text("status.outbreak_ports", lang, value=ports))
            typer.echo(text("status.outbreak_files", lang, value=files))
        typer.echo(text("status.outbreak_scope", lang, scope=policy["scope"]))
    violations = data["violations"]
    if violations["total"]:
        latest = violations["latest"][-1]
        last = f"{latest.get('path')} ({local_time(latest.get('at'))})"
        typer.echo(text("status.violations", lang, count=violations["total"], last=last))
    typer.echo(text("status.quarantine", lang, count=data["quarantined"]))
    typer.echo(text("status.detections", lang, count=data["detections_not_cleaned"]))
