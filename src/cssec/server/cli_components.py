"""`cssec server components show|update|rollback|rollout-timing|import`: the components
(patterns, template, engine) and ActiveUpdate, online or from a bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cssec.clikit import choose_language, error_line, say
from cssec.server.cli_common import DataOption, LangOption, guarded, open_env, run_async
from cssec.server.updates.service import rollback_components, update_components
from cssec.server.updates.tuf_events import stale_message
from cssec.server.updates.view import read_overview

components_app = typer.Typer(
    no_args_is_help=True, help="Components (patterns, template, engine) and ActiveUpdate."
)


@components_app.command("show")
@guarded
def components_show(
    ctx: typer.Context,
    data: DataOption = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the current and previous version of each component and the last update."""
    language = choose_language(ctx, lang)
    env = open_env(data)
    with env.sessionmaker() as session:
        overview = read_overview(session, now=env.clock.now(), tz=env.tz, data_root=env.data.root)
    if as_json:
        typer.echo(json.dumps(overview.to_dict(), ensure_ascii=False, indent=2))
        return
    for row in overview.rows:
        current = row.current.version if row.current else "-"
        previous = row.previous.version if row.previous else "-"
        before = f"（以前: {previous}）" if language == "ja" else f" (previous: {previous})"
        typer.echo(f"{row.component.label(language)}: {current}{before}")
    last = overview.last_log
    if last is not None:
        message = last.message_en if language == "en" else last.message_ja
        from cssec.server.logs.update_logs import RESULT_LABELS  # noqa: PLC0415

        result = RESULT_LABELS.get(last.result, {}).get(language, last.result)
        shown = last.at.astimezone(env.tz).strftime("%Y-%m-%d %H:%M:%S")  # the server's zone
        typer.echo(say(f"最後のアップデート: {shown} {result}: {message}",
                       f"last update: {last.at.isoformat()} {result}: {message}"))  # fmt: skip
    if overview.stale_since is not None:
        typer.echo(stale_message(overview.stale_since, env.tz)[language], err=True)
    if not overview.download.allowed:
        typer.echo(overview.download.message_in(language), err=True)


@components_app.command("update")
@guarded
def components_update(ctx: typer.Context, data: DataOption = None, lang: LangOption = None) -> None:
    """Update the components from ActiveUpdate now (safe while `serve` runs)."""
    language = choose_language(ctx, lang)
    env = open_env(data)
    outcome = run_async(update_components(env, trigger="cli", actor="cli"))
    if outcome.error is not None:
        raise outcome.error
    typer.echo(outcome.message[language])


@components_app.command("rollback")
@guarded
def components_rollback(
    ctx: typer.Context, data: DataOption = None, lang: LangOption = None
) -> None:
    """Undo the latest component update (all components of it, as the vendor signed them)."""
    language = choose_language(ctx, lang)
    env = open_env(data)
    outcome = rollback_components(env, trigger="cli", actor="cli")
    typer.echo(outcome.message[language])


@components_app.command("rollout-timing")
@guarded
def components_rollout_timing(
    ctx: typer.Context,
    timing: Annotated[
        str | None,
        typer.Argument(help="early, standard or late; without: show the current choice."),
    ] = None,
    data: DataOption = None,
    lang: LangOption = None,
) -> None:
    """When this server takes a version the vendor rolls out in stages: early (among the
    first 10 %), standard, or late (only in the rings above 50 %)."""
    from cssec.server.updates.rollout_timing import (  # noqa: PLC0415
        LABELS,
        InvalidRolloutTiming,
        change_rollout_timing,
        rollout_timing,
    )

    language = choose_language(ctx, lang)
    env = open_env(data)
    if timing is not None:
        try:
            with env.sessionmaker() as session:  # the event, as the Web manager writes it
                change_rollout_timing(
                    session, env.data.root, timing, actor="cli", now=env.clock.now()
                )
        except InvalidRolloutTiming as exc:
            typer.echo(error_line(exc, language), err=True)
            raise typer.Exit(2) from None
    current = rollout_timing(env.data.root)
    typer.echo(
        f"段階的配信のタイミング: {LABELS[current]['ja']} ({current})"
        if language == "ja"
        else f"staged rollout timing: {current}"
    )


@components_app.command("import")
@guarded
def components_import(
    ctx: typer.Context,
    bundle: Annotated[
        Path,
        typer.Argument(help="The bundle (`cssec vendor component bundle`).", exists=True,
                       dir_okay=False, readable=True),
    ],
    data: DataOption = None,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """Import a component bundle made by the vendor for this site (air-gapped servers):
    verified with TUF as an online update is, refused if older than what is installed."""
    from cssec.server.updates.bundle import (  # noqa: PLC0415
        MAX_BUNDLE_BYTES,
        BundleRefused,
        import_bundle,
    )

    language = choose_language(ctx, lang)
    env = open_env(data)
    if bundle.stat().st_size > MAX_BUNDLE_BYTES:
        raise BundleRefused("bad_bundle", f"larger than {MAX_BUNDLE_BYTES} bytes")
    outcome = run_async(import_bundle(env, bundle.read_bytes(), actor="cli"))
    if outcome.error is not None:
        raise outcome.error
    typer.echo(outcome.message[language])
