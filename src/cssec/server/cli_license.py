"""`cssec server license show|check-online|activate|request|import`: the installed
server's license slots, checked online, a new code entered, renewal by file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cssec.cli_warnings import warning_line
from cssec.clikit import choose_language
from cssec.outfile import OutputExists, write_new_file
from cssec.server.cli_common import (
    DataOption,
    ForceOption,
    LangOption,
    guarded,
    open_env,
    run_async,
)
from cssec.server.licensing.activation import activate_code
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.online_check import check_status_online
from cssec.server.licensing.refusals import applied_refusal_message
from cssec.server.licensing.view import SlotView, read_licenses

license_app = typer.Typer(no_args_is_help=True, help="License slots of an installed server.")

_LABELS = {
    "ja": ("製品名", "バージョン種類", "アクティベーションコード", "ステータス", "有効期限"),
    "en": ("Product", "Version type", "Activation code", "Status", "Expires on"),
}


def _print_licenses(env: LicenseEnv, lang: str, *, as_json: bool) -> None:
    """The slots as they stand now (state computed from the clock)."""
    with env.sessionmaker() as session:
        licenses = read_licenses(
            session, now=env.clock.now(), tz=env.tz, seat_window_days=env.seat_window_days
        )
    print_slots(licenses.slots, lang, as_json=as_json)


def print_slots(slots: list[SlotView], lang: str, *, as_json: bool) -> None:
    """One block per product (codes are never cut short), or the API's JSON."""
    if as_json:
        typer.echo(json.dumps([s.to_api(lang) for s in slots], ensure_ascii=False, indent=2))
        return
    labels = _LABELS[lang]
    for index, slot in enumerate(slots):
        if index:
            typer.echo("")
        values = (
            slot.product.name_in(lang),
            slot.version_type.label(lang),
            slot.formatted_code,
            slot.state.label(lang),
            slot.expires_on.isoformat(),
        )
        for label, value in zip(labels, values, strict=True):
            typer.echo(f"{label}: {value}")
        if slot.state_note is not None:
            typer.echo(slot.state_note[lang])


@license_app.command("show")
@guarded
def license_show(
    ctx: typer.Context,
    data: DataOption = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show the license slots (state computed now)."""
    language = choose_language(ctx, lang)
    _print_licenses(open_env(data), language, as_json=as_json)


@license_app.command("check-online")
@guarded
def license_check_online(
    ctx: typer.Context, data: DataOption = None, lang: LangOption = None
) -> None:
    """Check every slot's status with the vendor now (safe while `serve` runs)."""
    language = choose_language(ctx, lang)
    env = open_env(data)
    outcomes = run_async(check_status_online(env, actor="cli"))
    _print_licenses(env, language, as_json=False)
    for outcome in outcomes:
        if outcome.applied is not None:
            message = applied_refusal_message(outcome.product, outcome.applied)
            typer.echo(message[language], err=True)
    failed = [o for o in outcomes if o.error is not None]
    if failed and failed[0].error is not None:
        raise failed[0].error


@license_app.command("activate")
@guarded
def license_activate(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The new activation code.")],
    data: DataOption = None,
    lang: LangOption = None,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Replace the code even when the new one lowers the license "
            "(earlier expiry, fewer seats, another contract).",
        ),
    ] = False,
) -> None:
    """Enter a new activation code (verified online when the vendor answers)."""
    language = choose_language(ctx, lang)
    env = open_env(data)
    slot = run_async(activate_code(env, code, actor="cli", confirm=confirm))
    print_slots([slot], language, as_json=False)
    if not slot.confirmed_online:
        said = (
            "オンラインで確認できなかったため、形式と有効期限で受け付けました"
            if language == "ja"
            else "not confirmed online (accepted on format and expiry)"
        )
        typer.echo(warning_line(said, language), err=True)


@license_app.command("request")
@guarded
def license_request(
    ctx: typer.Context,
    *,
    out: Annotated[Path, typer.Option("--out", help="Where to write REQ.json.", dir_okay=False)],
    data: DataOption = None,
    lang: LangOption = None,
    force: ForceOption = False,
    code: Annotated[
        str | None,
        typer.Option(
            "--code",
            help="A new activation code to have confirmed by file (in place of its "
            "product's current code); importing the response puts it in effect (with "
            "--confirm when it lowers the license).",
        ),
    ] = None,
) -> None:
    """Write a renewal request signed by this server, for a license service it cannot
    reach: answer it with `cssec vendor license respond` (or the portal), then import."""
    from cssec.server.licensing.offline_renewal import write_request  # noqa: PLC0415

    language = choose_language(ctx, lang)
    if not force and (out.exists() or out.is_symlink()):
        raise OutputExists(path=str(out))  # before the request is recorded
    written = write_request(open_env(data), actor="cli", new_code=code)
    write_new_file(out, written.data, mode=0o644, force=force)
    typer.echo(f"request: {out}" if language == "en" else f"更新要求ファイルを作成しました: {out}")
    if written.lowers is not None:
        summary = written.lowers.summary(language)
        said = (
            f"the new code would lower the current license ({summary}); importing the "
            "response may need --confirm"
            if language == "en"
            else f"新しいコードでは現在のライセンスより条件が下がります（{summary}）。"
            "応答ファイルを取り込むときに--confirmが必要になることがあります"
        )
        typer.echo(warning_line(said, language), err=True)


@license_app.command("import")
@guarded
def license_import(
    ctx: typer.Context,
    response: Annotated[
        Path,
        typer.Argument(help="The license service's RESP.json.", exists=True, dir_okay=False),
    ],
    data: DataOption = None,
    lang: LangOption = None,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Put a new code from the response in effect even when it lowers the license "
            "(earlier expiry, fewer seats, another contract).",
        ),
    ] = False,
) -> None:
    """Import the license service's response to this server's request: the slots are
    extended exactly as an online check would."""
    from cssec.server.licensing.offline_renewal import import_response  # noqa: PLC0415

    language = choose_language(ctx, lang)
    env = open_env(data)
    outcome = import_response(env, response.read_bytes(), actor="cli", confirm=confirm)
    typer.echo(outcome.message(language))
    if not outcome.already_imported:
        _print_licenses(env, language, as_json=False)
    if outcome.held:
        raise outcome.held[0]
