"""`cssec vendor code reissue|revoke|inspect`: the support desk's actions on one
activation code (a revocation covers the codes it superseded, listed first)."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.orm import Session

from cssec.clikit import NEGATIVE, choose_language, say
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.cli_common import DataOption, cli_actor, opened_vendor, run_service
from cssec.vendor_service.cli_output import inspection_rows, table_lines
from cssec.vendor_service.errors import RevocationLiftNotAsked, RevocationNeedsAdmin

code_app = typer.Typer(no_args_is_help=True, help="Activation codes: reissue, revoke, inspect.")


@code_app.command("reissue")
def code_reissue(
    key_or_code: str = typer.Argument(..., help="Registration key or activation code."),
    product: str | None = typer.Option(
        None, "--product", help="CS or DCS (default: the given code's product, else CS)."
    ),
    lift_revocation: bool = typer.Option(
        False,
        "--lift-revocation",
        help="Issue even though the product's newest code is revoked (undoes the revocation).",
    ),
    data: Path | None = DataOption,
) -> None:
    """Issue a new activation code carrying the contract's current end (offline renewal)."""

    def reissue(session: Session) -> str:
        try:
            return services.issue_replacement_code(
                session, key_or_code, product=product, actor=cli_actor(),
                lift_revocation=lift_revocation,
            )  # fmt: skip
        except RevocationNeedsAdmin as refused:
            raise RevocationLiftNotAsked(**refused.fields) from None

    typer.echo(run_service(data, reissue))


def _covered_lines(preview: services.RevocationPreview, lang: str) -> list[str]:
    """The codes a revocation covers, oldest first, one line each (what `code revoke` prints
    before it revokes them)."""
    ja = lang == "ja"
    count = len(preview.codes)
    en_head = f"This revocation covers ({count}, oldest first):"
    lines = [f"この失効の対象 ({count} 件、古い順):" if ja else en_head]
    for c in preview.codes:
        if c.revoked_at is not None:
            when = c.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
            state = f"失効済み ({when})" if ja else f"already revoked ({when})"
        else:
            state = "有効 → 失効" if ja else "live -> revoked"
        given = (" ← 指定のコード" if ja else " <- the given code") if c.is_target else ""
        contract = f"契約 #{c.contract_id}" if ja else f"contract #{c.contract_id}"
        expiry = f"有効期限 {c.expires_on}" if ja else f"expires {c.expires_on}"
        product = Product(c.product).name_in("ja") if ja else c.product  # C/S Sec. / CS
        lines.append(f"  {c.code}  {product}  {contract} ({c.customer})  {expiry}  {state}{given}")
    return lines


@code_app.command("revoke")
def code_revoke(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The activation code to revoke."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit log)."),
    data: Path | None = DataOption,
) -> None:
    """Revoke an activation code and every older code of its contract's product that it
    superseded (listed first, oldest first): status checks, ActiveUpdate and registration
    refuse them from now on. Newer codes stay valid. Last line: revoked: CODE (in Japanese
    失効させました: CODE)."""
    with opened_vendor(data) as vendor, vendor.session() as session:
        preview = services.revocation_preview(session, code)
        for line in _covered_lines(preview, choose_language(ctx)):
            typer.echo(line)
        services.revoke_code(session, code, actor=cli_actor(), reason=reason)
    typer.echo(say(f"失効させました: {code}", f"revoked: {code}"))


@code_app.command("inspect")
def code_inspect(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="An activation code or a registration key."),
    data: Path | None = DataOption,
) -> None:
    """What the support desk sees: kind, product, expiry, verdict and why.

    Exit 0 for a valid code or key; 1 for an invalid, expired or revoked one (the same
    lines are printed either way); 2 for a usage error or a fault."""
    found = run_service(data, lambda s: services.inspect_code(s, code))
    lang = choose_language(ctx)
    for line in table_lines(inspection_rows(found, lang), lang):
        typer.echo(line)
    if found.verdict != "valid":
        raise typer.Exit(NEGATIVE)
