"""`cssec vendor keys public|rotate|bulk` (and `keys root`, from `tuf_cli`): the
vendor's signing and HMAC keys, and a distributor's batch of registration keys."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cssec.clikit import say
from cssec.core.license import Product
from cssec.core.signing import VerifyingKey
from cssec.vendor_service import services
from cssec.vendor_service.cli_common import (
    DataOption,
    cli_actor,
    opened_vendor,
    parse_day,
    run_service,
)
from cssec.vendor_service.tuf_cli import keys_root_app

keys_app = typer.Typer(no_args_is_help=True, help="The vendor's signing and HMAC keys.")
keys_app.add_typer(keys_root_app, name="root")


@keys_app.command("public")
def keys_public(
    data: Path | None = DataOption,
    fingerprint: bool = typer.Option(
        False, "--fingerprint", help="Print only the current key's sha256: fingerprint."
    ),
) -> None:
    """Print the public key set (JWKS JSON) that servers pin, current key first, and each
    key's fingerprint on stderr. Hand one of them to each server's administrator by a
    channel other than the network the server uses (`cssec server install
    --vendor-keys-file F` or `--vendor-key-fingerprint sha256:…`)."""
    with opened_vendor(data) as vendor:
        jwks = vendor.keyring.jwks()
    keys = [VerifyingKey.from_jwk(jwk) for jwk in jwks["keys"]]
    if fingerprint:
        typer.echo(keys[0].fingerprint)
        return
    typer.echo(json.dumps(jwks, indent=2))
    for key in keys:
        typer.echo(say(f"鍵 {key.kid}のフィンガープリント: {key.fingerprint}",
                       f"fingerprint {key.kid}: {key.fingerprint}"), err=True)  # fmt: skip


@keys_app.command("rotate")
def keys_rotate(data: Path | None = DataOption) -> None:
    """Add new HMAC and signing keys and make them current; the old ones stay trusted."""
    mac_kid, signing_kid = run_service(data, lambda s: services.rotate_keys(s, actor=cli_actor()))
    typer.echo(say(f"HMAC鍵の番号: {mac_kid}", f"hmac kid: {mac_kid}"))
    typer.echo(say(f"署名鍵の番号: {signing_kid}", f"signing kid: {signing_kid}"))


@keys_app.command("bulk")
def keys_bulk(  # noqa: PLR0917  (Typer maps each parameter to an option)
    ctx: typer.Context,
    count: int = typer.Option(..., "--count", help="Contracts to issue (one key each)."),
    seats: int = typer.Option(..., "--seats", help="Licensed seats of each contract."),
    out: Path = typer.Option(..., "--out", help="CSV to write; must not exist (mode 0600)."),
    months: int = typer.Option(12, "--months", help="Term length in months."),
    start: str | None = typer.Option(
        None, "--start", help="First day, YYYY-MM-DD (default: today, UTC)."
    ),
    with_dcs: bool = typer.Option(False, "--with-dcs", help="Include Damage Cleanup Services."),
    customer: str | None = typer.Option(
        None, "--customer", help="Distributor or batch name (default: 'bulk <UTC time>')."
    ),
    data: Path | None = DataOption,
) -> None:
    """Issue a distributor's batch in one transaction (all or nothing) and write its CSV:
    registration_key, activation code(s), expires_on, contract_id."""
    from rich.console import Console  # noqa: PLC0415  (only this command needs it)
    from rich.progress import Progress, TaskID  # noqa: PLC0415

    start_day = parse_day(ctx, start) if start else None
    bar = Progress(console=Console(stderr=True))
    task: list[TaskID] = []

    def progress(done: int, total: int) -> None:
        if not task:  # the terms checked out and the transaction began
            bar.start()
            task.append(bar.add_task(say("発行中", "issuing"), total=total))
        bar.update(task[0], completed=done)

    try:  # the bar stops before any error line is printed
        with opened_vendor(data) as vendor, vendor.session() as session:
            issued = services.issue_bulk_contracts(
                session, count=count, seats=seats, out=out, months=months, start=start_day,
                with_dcs=with_dcs, customer=customer, actor=cli_actor(), progress=progress,
            )  # fmt: skip
    finally:
        bar.stop()
    ids, products = issued.contract_ids, ", ".join(issued.products)
    names = "、".join(Product(p).name_in("ja") for p in issued.products)  # C/S Sec. …
    lines = (
        (f"契約数: {issued.count}（契約番号 {ids[0]}〜{ids[-1]}）",
         f"contracts: {issued.count} (ids {ids[0]}..{ids[-1]})"),
        (f"顧客: {issued.customer}", f"customer: {issued.customer}"),
        (f"ライセンス数: {issued.seats}  製品: {names}",
         f"seats: {issued.seats}  products: {products}"),
        (f"契約期間: {issued.start} 〜 {issued.end}", f"term: {issued.start} .. {issued.end}"),
        (f"CSVファイル: {issued.out}", f"csv: {issued.out}"),
        (f"SHA-256: {issued.sha256}", f"sha256: {issued.sha256}"),
    )  # fmt: skip
    for ja, en in lines:
        typer.echo(say(ja, en))
