"""`cssec vendor component rollout show|halt|resume|pull` (registered by
`vendor_service.cli_components`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from cssec.clikit import current_language, say
from cssec.core.policy import Component
from cssec.core.rollout import RolloutRuleError, parse_rings
from cssec.vendor_service.activeupdate.rollout_errors import STATES_JA, BadRolloutPlan
from cssec.vendor_service.activeupdate.rollout_service import (
    RolloutView,
    halt_rollout,
    pull_rollout,
    resume_rollout,
    show_rollouts,
)
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.cli_common import cli_actor, run_service

rollout_app = typer.Typer(
    no_args_is_help=True, help="Staged rollouts: show, halt, resume, pull (back to the last good)."
)
T = TypeVar("T")
KIND_HELP = "virus_pattern, damage_cleanup_template, spyware_pattern or scan_engine."


def plan_of(rollout: str | None, step_hours: int) -> RolloutPlan | None:
    if rollout is None:
        return None
    try:
        rings = parse_rings(rollout)
    except RolloutRuleError as exc:
        raise BadRolloutPlan(detail=str(exc)) from None
    return RolloutPlan(rings=rings, step_hours=step_hours)


_STATES_JA = STATES_JA


def component_label(kind: str, lang: str) -> str:
    """ウイルスパターンファイル … in Japanese; the component's key (virus_pattern) in
    English, as a script reads it."""
    if lang != "ja":
        return kind
    try:
        return Component(kind).label("ja")
    except ValueError:
        return kind


def view_lines(view: RolloutView, lang: str) -> list[str]:
    """What `rollout show|halt|resume` print of one rollout, in `lang`."""
    health = view.health
    state = "halted" if view.halted and view.state == "active" else view.state
    if lang != "ja":
        lines = [
            f"{view.component} v{view.version} (previous v{view.previous_version}): {state}, "
            f"ring {view.ring + 1}/{len(view.rings)} {view.rings} at {view.percent:g}%, "
            f"every {view.step_hours} h, full at {view.full_at:%Y-%m-%dT%H:%M:%SZ}",
            f"  health: {health.servers} servers, {health.clients} clients, load failures "
            f"{health.load_failure_rate:.1%}, scan errors {health.scan_error_rate:.1%}, "
            f"detections {health.detections}, quarantines {health.quarantines}",
        ]
        if view.halt_reason:
            lines.append(f"  halted: {view.halt_reason}")
        if view.pulled_version is not None:
            lines.append(f"  pulled: v{view.pulled_version} carries the previous content")
        return lines
    previous = (
        "" if view.previous_version is None else f"（前のバージョン: v{view.previous_version}）"
    )
    rings = " → ".join(f"{r}%" for r in view.rings)
    lines = [
        f"{component_label(view.component, 'ja')} v{view.version}{previous}: "
        f"{_STATES_JA.get(state, state)}、リング {view.ring + 1}/{len(view.rings)} ({rings})、"
        f"現在 {view.percent:g}%、{view.step_hours}時間おき、"
        f"全サーバに届く日時 {view.full_at:%Y-%m-%d %H:%M} UTC",
        f"  ヘルス: サーバ {health.servers}、クライアント {health.clients}、読み込みの失敗 "
        f"{health.load_failure_rate:.1%}、検索エラー {health.scan_error_rate:.1%}、"
        f"検出 {health.detections}、隔離 {health.quarantines}",
    ]
    if view.halt_reason:
        lines.append(f"  停止の理由: {view.halt_reason}")
    if view.pulled_version is not None:
        lines.append(f"  取り下げ: v{view.pulled_version}が前の内容を全サーバに配信します")
    return lines


def _echo(view: RolloutView) -> None:
    for line in view_lines(view, current_language()):
        typer.echo(line)


def _run_cli(data: Path | None, action: Callable[[Session, str], T]) -> T:
    return run_service(data, lambda s: action(s, cli_actor()))


@rollout_app.command("show")
def rollout_show(
    kind: str | None = typer.Argument(None, help=KIND_HELP),
    version: int | None = typer.Argument(None, help="Only this version."),
    as_json: bool = typer.Option(False, "--json", help="JSON, one object per rollout."),
    data: Path | None = typer.Option(None, "--data", file_okay=False),
) -> None:
    """Rollouts, newest first: rings, where each stands, health against the previous version."""
    views = _run_cli(data, lambda s, _actor: show_rollouts(s, kind))
    views = [v for v in views if version is None or v.version == version]
    for view in views:
        if as_json:
            typer.echo(json.dumps(view.to_dict(), ensure_ascii=False))
        else:
            _echo(view)
    if not views and not as_json:
        typer.echo(say(
            "段階的配信はありません。--rolloutを付けて公開すると始まります。", "no rollouts"
        ))  # fmt: skip


@rollout_app.command("halt")
def rollout_halt(
    kind: str = typer.Argument(..., help=KIND_HELP),
    version: int = typer.Argument(...),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit log)."),
    data: Path | None = typer.Option(None, "--data", file_okay=False),
) -> None:
    """Stop the rollout where it is: no further server takes the version."""
    view = _run_cli(data, lambda s, a: halt_rollout(s, kind, version, actor=a, reason=reason))
    _echo(view)


@rollout_app.command("resume")
def rollout_resume(
    kind: str = typer.Argument(..., help=KIND_HELP),
    version: int = typer.Argument(...),
    data: Path | None = typer.Option(None, "--data", file_okay=False),
) -> None:
    """Let a halted rollout go on along its schedule."""
    view = _run_cli(data, lambda s, a: resume_rollout(s, kind, version, actor=a))
    _echo(view)


@rollout_app.command("pull")
def rollout_pull(
    kind: str = typer.Argument(..., help=KIND_HELP),
    version: int = typer.Argument(...),
    data: Path | None = typer.Option(None, "--data", file_okay=False),
) -> None:
    """Every server back to the previous content, as a new version for all."""
    published = _run_cli(data, lambda s, a: pull_rollout(s, kind, version, actor=a))
    v = published.component_version
    typer.echo(say(
        f"{component_label(kind, 'ja')} v{version}を取り下げました: 前の内容をバージョン"
        f"{v.version}として全サーバに公開しました（マニフェストのシリアル番号 {published.serial}）",
        f"pulled {kind} v{version}: published {v.component.value} version {v.version} "
        f"(the previous content) for every server; manifest serial {published.serial}",
    ))  # fmt: skip
