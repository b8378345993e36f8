"""`cssec vendor component publish|list|bundle` (and `component rollout`, from
`activeupdate.cli_rollout`): ActiveUpdate components, and a signed bundle for an
air-gapped site."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import current_language, say
from cssec.outfile import OutputExists, write_new_file
from cssec.vendor_service.activeupdate.cli_rollout import rollout_app
from cssec.vendor_service.cli_common import DataOption, ForceOption, cli_actor, run_service

component_app = typer.Typer(no_args_is_help=True, help="ActiveUpdate components: publish, list.")
component_app.add_typer(rollout_app, name="rollout")


@component_app.command("publish")
def component_publish(
    name: str = typer.Argument(
        ..., help="virus_pattern, damage_cleanup_template, spyware_pattern or scan_engine."
    ),
    file: Path = typer.Argument(
        ..., help="The component file (YARA rules or JSON).", exists=True, dir_okay=False,
        readable=True,
    ),
    rollout: str | None = typer.Option(
        None, "--rollout", help="Staged rollout rings in percent, e.g. 1,10,50,100.",
    ),
    step_hours: int = typer.Option(24, "--step-hours", help="Hours between rings."),
    data: Path | None = DataOption,
) -> None:  # fmt: skip
    """Publish FILE as the next version of component NAME (checked first: YARA compiles,
    the JSON parses); servers get it at their next hourly ActiveUpdate poll, or ring by
    ring with --rollout (see `component rollout`)."""
    from cssec.vendor_service.activeupdate import publish_component  # noqa: PLC0415
    from cssec.vendor_service.activeupdate.cli_rollout import plan_of  # noqa: PLC0415

    content = file.read_bytes()
    plan = plan_of(rollout, step_hours)
    published = run_service(
        data, lambda s: publish_component(s, name, content, actor=cli_actor(), rollout=plan)
    )
    version = published.component_version
    kind, label = version.component.value, version.component.label("ja")
    typer.echo(say(
        f"{label}のバージョン{version.version}を公開しました（sha256 {version.sha256}、"
        f"{version.size}バイト、マニフェストのシリアル番号 {published.serial}）",
        f"published {kind} version {version.version} "
        f"(sha256 {version.sha256}, {version.size} bytes); manifest serial {published.serial}",
    ))  # fmt: skip
    if plan is not None:  # the last line names the version too (halt and pull take it)
        rings = ",".join(str(r) for r in plan.rings)
        steps = " → ".join(f"{r}%" for r in plan.rings)
        typer.echo(say(
            f"段階的配信: {label} v{version.version}を{steps}の順に{plan.step_hours}時間おきに"
            f"配信します（確認: cssec vendor component rollout show {kind}）",
            f"staged rollout: rings {rings} %, every {plan.step_hours} h "
            f"(cssec vendor component rollout show {kind})",
        ))  # fmt: skip


@component_app.command("list")
def component_list(
    name: str | None = typer.Argument(None, help="Only this component."),
    data: Path | None = DataOption,
) -> None:
    """Every published version, newest first; the current one of each component is marked *."""
    from cssec.vendor_service.activeupdate import list_component_versions  # noqa: PLC0415

    versions = run_service(data, lambda s: list_component_versions(s, name))
    ja = current_language() == "ja"
    seen: set[str] = set()
    for v in versions:
        mark = " " if v.component.value in seen else "*"
        seen.add(v.component.value)
        published = v.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if ja:  # the console's words, in one column (a Japanese letter takes two)
            label = v.component.label("ja")
            named = label + " " * (30 - 2 * len(label))
            published = v.published_at.strftime("%Y-%m-%d %H:%M UTC")
        else:  # the key a script reads
            named = f"{v.component.value:<24}"
        typer.echo(f"{mark} {named} v{v.version:<4} {v.sha256}  {v.size:>9}  {published}")


@component_app.command("bundle")
def component_bundle(
    code: str = typer.Option(..., "--code", help="The site's activation code."),
    out: Path = typer.Option(..., "--out", help="The bundle file to write.", dir_okay=False),
    data: Path | None = DataOption,
    force: bool = ForceOption,
) -> None:
    """Write a signed component bundle (TUF metadata + files) for an air-gapped site, if
    its contract allows ActiveUpdate as an online download would; the site imports it with
    `cssec server components import`."""
    from cssec.vendor_service.activeupdate.bundle import (  # noqa: PLC0415
        bundle_summary,
        make_bundle,
    )

    if not force and (out.exists() or out.is_symlink()):
        raise OutputExists(path=str(out))  # before the bundle is made and audited
    bundle = run_service(data, lambda s: make_bundle(s, code, actor=cli_actor()))
    write_new_file(out, bundle.data, mode=0o644, force=force)
    lang = current_language()
    typer.echo(say("コンポーネントバンドル: ", "bundle: ") + bundle_summary(bundle, lang))
    typer.echo(say(f"書き出し先: {out}", f"written to: {out}"))  # the path last, to copy
