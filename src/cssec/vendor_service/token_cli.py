"""`cssec vendor token create|list|revoke`: the admin API's tokens, on the vendor host.

The token is printed once, on the last line of `create`, and never again (only its hash
is kept). Scopes: see `cssec.vendor_service.services.tokens.SCOPES`. The data directory
is chosen as for every `cssec vendor` command (`cli_data`): none of these makes a
database where nobody chose one.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import typer

from cssec.clikit import current_language, say
from cssec.vendor_service.cli_data import vendor_settings
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services.tokens import (
    SCOPES,
    TokenView,
    create_token,
    list_tokens,
    revoke_token,
)

token_app = typer.Typer(
    no_args_is_help=True, help="Admin API tokens: create (shown once), list, revoke."
)
DataOption = typer.Option(
    None, "--data", help="Data directory (default: $CSSEC_VENDOR_DATA_DIR).", file_okay=False
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _days(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.strip().lower().removesuffix("d")
    if not digits.isdecimal():
        said = say("日数で指定してください（例: 90 または 90d）", "give days, e.g. 90 or 90d")
        raise typer.BadParameter(said, param_hint="--expires")
    return int(digits)


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if at is not None else "-"


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="Its name; the audit log shows token:NAME."),
    scope: str = typer.Option(..., "--scope", help="Comma-separated: " + ", ".join(SCOPES) + "."),
    expires: str | None = typer.Option(
        None, "--expires", help="Days until it stops working (default: never)."
    ),
    data: Path | None = DataOption,
) -> None:
    """Make a token; the last line is the token itself, shown this once."""
    days = _days(expires)
    vendor = open_vendor(vendor_settings(data))
    try:
        with vendor.session() as session:
            made = create_token(
                session, name=name, scopes=scope.split(","), expires_in_days=days, actor=_actor()
            )
    finally:
        vendor.close()
    scopes = ",".join(made.view.scopes)
    expires = _when(made.view.expires_at) if made.view.expires_at else say("なし", "-")
    typer.echo(say(f"トークン {made.view.name}: スコープ {scopes}",
                   f"token {made.view.name}: scopes {scopes}"))  # fmt: skip
    typer.echo(say(f"有効期限: {expires}", f"expires: {expires}"))
    once = say("表示はこの一度だけです。連携先のシークレットの保管場所に保存してください:",
               "Shown once; keep it in your integration's secret store:")  # fmt: skip
    typer.echo(once, err=True)
    typer.echo(made.token)


@token_app.command("list")
def token_list(data: Path | None = DataOption) -> None:
    """Every token: name, status, scopes, expiry, last use (never the token)."""
    vendor = open_vendor(vendor_settings(data))
    try:
        with vendor.session() as session:
            views = list_tokens(session)
        now = vendor.clock.now()
    finally:
        vendor.close()
    for line in token_lines(views, now, current_language()):
        typer.echo(line)


_STATUS_JA = {"active": "有効", "expired": "期限切れ", "revoked": "失効"}  # the console's words


def token_lines(views: list[TokenView], now: datetime, lang: str) -> list[str]:
    """One line a token: in Japanese with the console's words; in English the stable
    `name  status  hint…  scopes=…` a script reads."""
    if not views:
        return ["トークンはありません。" if lang == "ja" else "no tokens"]
    if lang != "ja":
        return [
            f"{view.name}  {view.status(now)}  {view.hint}…  scopes={','.join(view.scopes)}  "
            f"expires={_when(view.expires_at)}  last_used={_when(view.last_used_at)}"
            for view in views
        ]
    lines = []
    for view in views:
        status = view.status(now)
        expires = "なし" if view.expires_at is None else _when(view.expires_at)
        used = "未使用" if view.last_used_at is None else _when(view.last_used_at)
        lines.append(
            f"{view.name}  {_STATUS_JA.get(status, status)}  {view.hint}…  "
            f"スコープ: {','.join(view.scopes)}  有効期限: {expires}  最終使用: {used}"
        )
    return lines


@token_app.command("revoke")
def token_revoke(
    name: str = typer.Argument(..., help="The token's name (see `token list`)."),
    data: Path | None = DataOption,
) -> None:
    """Stop a token at once (its calls get 401 api_token_revoked)."""
    vendor = open_vendor(vendor_settings(data))
    try:
        with vendor.session() as session:
            view = revoke_token(session, name, actor=_actor())
    finally:
        vendor.close()
    at = _when(view.revoked_at)
    typer.echo(say(f"トークン {view.name}を失効させました（{at}）",
                   f"revoked token {view.name} at {at}"))  # fmt: skip
