"""`cssec client …`: install, update, scan (ScanNow) and status; clean and quarantine
(cli_dcs), watch and heartbeat (cli_realtime).

Exit status (cssec.clikit's): 0 success; 1 refused or failed (one line on stderr, in the
command's own words); 2 a usage error or a fault that leaves a command (OS, e.g. a full
disk or a directory that cannot be written: one line `error: <code>: <message>`); `scan`
follows clamscan: 0 clean, 1 threats found, 2 errors. The language (`cssec client --lang
en …`, else LC_ALL / LC_MESSAGES / LANG, else Japanese) is chosen once here and passed
down; the server answers in it too.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from cssec.cli_warnings import said_warnings
from cssec.client import cli_dcs, cli_realtime
from cssec.client.agent import Route
from cssec.client.cli_common import _LANG_KEY, DIR_OPTION, fail, lang_of, system_clock
from cssec.client.errors import NoComponents
from cssec.client.heartbeat import LICENSE_DOC, send_heartbeat
from cssec.client.install import agent_for, install_client
from cssec.client.messages import local_time, text
from cssec.client.scanner import ScanNowOutcome, scan_now
from cssec.client.state import ClientState
from cssec.client.tuf_client import stale_since
from cssec.client.updater import (
    UpdateOutcome,
    UpdateResult,
    describe_changes,
    describe_versions,
    update_components,
)
from cssec.clikit import LANG_HELP, Boundary, Language, choose_language
from cssec.core.components import format_timestamp
from cssec.core.errors import CssecError, LicenseExpired
from cssec.core.license import LicenseState
from cssec.core.policy import Component

app = typer.Typer(
    name="client",
    cls=Boundary,
    no_args_is_help=True,
    add_completion=False,
    help=(
        "C/S Sec. client: install from a server, update components, scan (ScanNow), "
        "real-time scan, damage cleanup, outbreak prevention policy."
    ),
)


class RouteChoice(StrEnum):
    web = "web"
    remote = "remote"
    autopcc = "autopcc"


_lang = lang_of
_clock = system_clock
_fail = fail


@app.callback()
def main(
    ctx: typer.Context,
    lang: Language | None = typer.Option(None, "--lang", case_sensitive=False, help=LANG_HELP),
) -> None:
    """C/S Sec. client."""
    # Every client command reads the language through cli_common.lang_of.
    ctx.meta[_LANG_KEY] = choose_language(ctx, lang)
    if ctx.invoked_subcommand != "watch":  # watch says its warnings once it has started
        ctx.with_resource(said_warnings())  # a fixed file mode, say, in the output language


def _print_update(outcome: UpdateOutcome, lang: str) -> None:
    if outcome.result is UpdateResult.SUCCESS:
        key = "update.stepped_back" if outcome.stepped_back else "update.success"
        typer.echo(text(key, lang, changes=describe_changes(outcome.changes, lang)))
    else:
        versions = describe_versions(outcome.versions, lang)
        typer.echo(text("update.up_to_date", lang, versions=versions))
    for component, error in outcome.refused.items():
        # One it holds keeps its version; one it never held (a C/S Sec.-only site has no
        # template) was not fetched.
        held = component in outcome.versions
        key = "update.component_refused" if held else "update.component_not_fetched"
        line = text(key, lang, component=component.label(lang), message=error.message(lang))
        typer.echo(line, err=True)
    if outcome.delivery == "queued":
        typer.echo(text("update.not_reported", lang), err=True)


@app.command()
def install(  # noqa: PLR0917  (Typer maps each parameter to an option)
    ctx: typer.Context,
    server: str = typer.Option(..., "--server", help="The C/S Sec. server's URL."),
    directory: Path = DIR_OPTION,
    token: str | None = typer.Option(None, "--token", help="One-time install token."),
    route: RouteChoice | None = typer.Option(
        None, "--route", help="Install route (default: autopcc, or web when --token is given)."
    ),
    fingerprint: str | None = typer.Option(
        None,
        "--fingerprint",
        help="sha256:<64 hex> of the server's certificate ('cssec server cert show'); "
        "an install token from the Web manager carries it already.",
    ),
    insecure_http: bool = typer.Option(
        False, "--insecure-http", help="Allow plain HTTP to a server on another computer."
    ),
    hostname: str | None = typer.Option(
        None, "--hostname", help="The name the server lists this client by (default: host name)."
    ),
) -> None:
    """Install this client from a C/S Sec. server and fetch its components.

    Over HTTPS the server's certificate must match the fingerprint (in the token, or
    --fingerprint) before anything is sent; the client then trusts that certificate only."""
    lang = _lang(ctx)
    chosen: Route = route.value if route else ("web" if token else "autopcc")
    state = ClientState(directory)
    try:
        outcome = install_client(
            state,
            server_url=server,
            route=chosen,
            install_token=token,
            clock=_clock(),
            lang=lang,
            fingerprint=fingerprint,
            insecure_http=insecure_http,
            hostname=hostname,
        )
    except CssecError as exc:
        _fail(exc.message(lang), error=exc)
    config = outcome.config
    typer.echo(text("install.ok", lang, client_id=config.client_id, server_url=config.server_url))
    if isinstance(outcome.update_error, LicenseExpired):
        # Installed all the same: the FAQ keeps installs working after expiry.
        typer.echo(
            text("install.refused", lang, message=outcome.update_error.message(lang)), err=True
        )
        return
    if outcome.update_error is not None:
        message = outcome.update_error.message(lang)
        _fail(text("install.components_failed", lang, message=message), error=outcome.update_error)
    if outcome.update is not None:
        _print_update(outcome.update, lang)


@app.command()
def update(ctx: typer.Context, directory: Path = DIR_OPTION) -> None:
    """Update the components through the server (manual update)."""
    lang = _lang(ctx)
    state = ClientState(directory)
    try:
        config = state.load_config()
        with agent_for(config, lang=lang, state=state) as agent:
            outcome = update_components(state, agent, clock=_clock(), lang=lang)
    except LicenseExpired as exc:
        _fail(text("update.refused", lang, message=exc.message(lang)), error=exc)
    except CssecError as exc:
        _fail(text("update.failed", lang, message=exc.message(lang)), error=exc)
    _print_update(outcome, lang)


def _print_scan(outcome: ScanNowOutcome, lang: str, *, verbose: bool) -> None:
    report = outcome.report
    for detection in report.detections:
        line = text(
            "scan.detected",
            lang,
            path=detection.path,
            threat=detection.threat,
            component=detection.component.label(lang),
            version=detection.component_version,
        )
        typer.echo(line)
    for taken in outcome.actions.values():
        if taken.error is not None:
            failed = text(
                "scan.action.failed",
                lang,
                path=taken.path,
                action=taken.wanted.value,
                detail=taken.error,
            )
            typer.echo(failed, err=True)
        elif taken.action.value != "report":
            key = f"scan.action.{taken.action.value}"
            typer.echo(text(key, lang, path=taken.path, target=taken.target))
    for issue in report.issues:
        typer.echo(text("scan.issue", lang, path=issue.path, detail=issue.detail), err=True)
    for warning in report.warnings:
        typer.echo(warning, err=True)
    if verbose:
        for skipped in report.skipped:
            key = f"scan.skipped.{skipped.reason.value}"
            typer.echo(text(key, lang, path=skipped.path, limit=report.max_file_bytes))
    typer.echo(
        text(
            "scan.summary",
            lang,
            files=report.files_scanned,
            detections=len(report.detections),
            skipped=len(report.skipped),
            errors=len(report.issues),
            versions=describe_versions(report.versions, lang),
        )
    )
    if outcome.delivery == "sent":
        typer.echo(text("scan.reported", lang))
    elif outcome.delivery == "queued":
        typer.echo(text("scan.queued", lang), err=True)
    elif outcome.delivery == "dropped" and outcome.delivery_error is not None:
        message = outcome.delivery_error.message(lang)
        typer.echo(text("scan.not_reported", lang, message=message), err=True)


@app.command()
def scan(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A file or directory to scan."),
    directory: Path = DIR_OPTION,
    cleanup: bool = typer.Option(
        False, "--cleanup", help="Apply the damage cleanup template (quarantine/delete)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List skipped files too."),
) -> None:
    """ScanNow: exit 0 clean, 1 threats found, 2 errors."""
    lang = _lang(ctx)
    state = ClientState(directory)
    try:
        outcome = scan_now(state, path, clock=_clock(), lang=lang, cleanup=cleanup)
    except NoComponents as exc:
        _fail(exc.message(lang), 2, error=exc)
    except CssecError as exc:
        _fail(exc.message(lang), 2, error=exc)
    _print_scan(outcome, lang, verbose=verbose)
    raise typer.Exit(outcome.exit_code)


def _status_data(state: ClientState, lang: str) -> dict[str, Any]:
    config = state.load_config() if state.is_installed() else None
    installed = state.load_installed()
    since = stale_since(state.root)
    stale = since is not None and since <= _clock().now()
    return {
        "installed": config is not None,
        "server_url": config.server_url if config else None,
        "client_id": config.client_id if config else None,
        "serial": installed.serial,
        "updated_at": format_timestamp(installed.updated_at) if installed.updated_at else None,
        "components": {
            c.value: {
                "version": installed.current[c].version if c in installed.current else None,
                "previous": installed.previous[c].version if c in installed.previous else None,
            }
            for c in Component
        },
        "outbox": len(state.load_outbox()),
        "stale_since": format_timestamp(since) if stale and since is not None else None,
        "license": _license_data(state),
    }


def _license_data(state: ClientState) -> dict[str, Any] | None:
    """The C/S Sec. license as the server told it at the last heartbeat (None: never)."""
    doc = state.load_doc(LICENSE_DOC)
    if doc is None or doc.get("state") not in {s.value for s in LicenseState}:
        return None
    return {k: doc.get(k) for k in ("state", "expires_on", "received_at")}


def _print_license(data: dict[str, Any] | None, lang: str) -> None:
    if data is None:
        typer.echo(text("status.license_unknown", lang))
        return
    typer.echo(
        text(
            "status.license",
            lang,
            state=LicenseState(data["state"]).label(lang),
            expires_on=data["expires_on"] or "-",
            received_at=local_time(data["received_at"]),
        )
    )
    if data["state"] in {LicenseState.EXPIRED, LicenseState.REVOKED, LicenseState.REJECTED}:
        typer.echo(text("status.license_ask", lang))


@app.command()
def status(
    ctx: typer.Context,
    directory: Path = DIR_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    online: bool = typer.Option(
        False, "--online", help="Send a heartbeat first (applies the outbreak policy)."
    ),
) -> None:
    """Show the server, components, real-time scan, outbreak prevention policy and reports."""
    lang = _lang(ctx)
    state = ClientState(directory)
    try:
        if online:
            with agent_for(state.load_config(), lang=lang, state=state) as agent:
                send_heartbeat(state, agent, clock=_clock(), lang=lang, run_cleanups=False)
        data = _status_data(state, lang)
        data.update(cli_realtime.protection_data(state, lang))
    except CssecError as exc:
        _fail(exc.message(lang), error=exc)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    none = text("none", lang)
    typer.echo(
        text("status.server", lang, value=data["server_url"] or text("status.not_installed", lang))
    )
    typer.echo(text("status.client_id", lang, value=data["client_id"] or "-"))
    _print_license(data["license"], lang)
    for component in Component:
        entry = data["components"][component.value]
        if entry["version"] is None:
            typer.echo(text("status.no_component", lang, label=component.label(lang)))
        else:
            typer.echo(
                text(
                    "status.component",
                    lang,
                    label=component.label(lang),
                    version=entry["version"],
                    previous=entry["previous"] or none,
                )
            )
    typer.echo(
        text(
            "status.serial",
            lang,
            serial=data["serial"] or none,
            updated_at=local_time(data["updated_at"], none),
        )
    )
    if data["stale_since"] is not None:
        typer.echo(text("status.stale", lang, since=local_time(data["stale_since"])))
    typer.echo(text("status.outbox", lang, count=data["outbox"]))
    cli_realtime.print_protection(data, lang)


app.command("clean")(cli_dcs.clean)
app.add_typer(cli_dcs.quarantine_app, name="quarantine")
app.command("watch")(cli_realtime.watch)
app.command("heartbeat")(cli_realtime.heartbeat)
