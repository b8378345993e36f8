"""`cssec vendor contract new|renew`: issue a contract (its codes and registration key)
and move its end later."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import Language, choose_language, say
from cssec.vendor_service import services
from cssec.vendor_service.cli_common import DataOption, cli_actor, parse_day, run_service
from cssec.vendor_service.cli_output import contract_summary

contract_app = typer.Typer(no_args_is_help=True, help="Contracts and their registration keys.")


@contract_app.command("new")
def contract_new(  # noqa: PLR0917  (Typer maps each parameter to an option)
    ctx: typer.Context,
    customer: str = typer.Option(
        ..., "--customer", help="Customer (company) name: a label, shared by no access."
    ),
    seats: int = typer.Option(..., "--seats", help="Licensed seats (clients)."),
    months: int = typer.Option(12, "--months", help="Term length in months."),
    start: str | None = typer.Option(
        None, "--start", help="First day, YYYY-MM-DD (default: today, UTC)."
    ),
    with_dcs: bool = typer.Option(False, "--with-dcs", help="Include Damage Cleanup Services."),
    data: Path | None = DataOption,
    contact_email: str | None = typer.Option(
        None,
        "--contact-email",
        help="This contract's own contact: its notices, and its portal sign-in.",
    ),
    language: Language | None = typer.Option(
        None, "--language", case_sensitive=False, help="Language of those mails (default ja)."
    ),
) -> None:
    """Issue a contract. Prints its codes, then (last line) its registration key."""
    start_day = parse_day(ctx, start) if start else None
    issued = run_service(
        data,
        lambda s: services.issue_contract(
            s,
            customer=customer,
            seats=seats,
            months=months,
            start=start_day,
            with_dcs=with_dcs,
            contact_email=contact_email,
            language=language.value if language is not None else None,
            actor=cli_actor(),
        ),
    )
    for line in contract_summary(issued, choose_language(ctx)):
        typer.echo(line)
    for product, code in issued.codes.items():  # one spelling in every language (cli_output)
        typer.echo(f"activation code {product}: {code}")
    typer.echo(issued.registration_key)


@contract_app.command("renew")
def contract_renew(
    key_or_code: str = typer.Argument(..., help="Registration key or activation code."),
    months: int = typer.Option(12, "--months", help="Months to add to the current end."),
    data: Path | None = DataOption,
) -> None:
    """Move the contract's end later; online servers see it at their next status check."""
    renewed = run_service(
        data, lambda s: services.renew_contract(s, key_or_code, months=months, actor=cli_actor())
    )
    typer.echo(say(
        f"契約番号 {renewed.contract_id}の終了日: {renewed.previous_end} → {renewed.end}",
        f"contract {renewed.contract_id}: {renewed.previous_end} -> {renewed.end}",
    ))  # fmt: skip
