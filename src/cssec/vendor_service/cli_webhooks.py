"""`cssec vendor webhook add|list|remove` and `cssec vendor notices run`: what the vendor
sends out through its outbox (Standard Webhooks, contract notices by mail)."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import current_language, say
from cssec.vendor_service import services
from cssec.vendor_service.cli_common import DataOption, cli_actor, opened_vendor, run_service

webhook_app = typer.Typer(
    no_args_is_help=True, help="Outgoing webhooks (Standard Webhooks): add, list, remove."
)
notices_app = typer.Typer(no_args_is_help=True, help="Contract notices and the outbox.")


@webhook_app.command("add")
def webhook_add(
    url: str = typer.Argument(
        ..., help="https:// URL of a public host (others: CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS)."
    ),
    events: str = typer.Option(
        ..., "--events", help="Comma-separated: " + ", ".join(services.WEBHOOK_EVENTS) + "."
    ),
    secret_file: Path = typer.Option(
        ..., "--secret-file", help="File holding the whsec_… secret (first line).",
        exists=True, dir_okay=False, readable=True,
    ),
    description: str = typer.Option("", "--description", help="A note for the list."),
    data: Path | None = DataOption,
) -> None:  # fmt: skip
    """Post the chosen events to URL, signed with the secret (never printed again)."""
    lines = secret_file.read_text(encoding="utf-8").splitlines()
    secret = lines[0].strip() if lines else ""
    view = run_service(
        data,
        lambda s: services.add_webhook_endpoint(
            s,
            url=url,
            secret=secret,
            events=events.split(","),
            description=description,
            actor=cli_actor(),
        ),
    )
    events = ", ".join(view.events)
    typer.echo(say(f"Webhook {view.id}: {view.url}", f"webhook {view.id}: {view.url}"))
    typer.echo(say(f"イベント: {events}", f"events: {events}"))
    typer.echo(say(f"シークレットの指紋: {view.secret_fingerprint}",
                   f"secret: {view.secret_fingerprint}"))  # fmt: skip


@webhook_app.command("list")
def webhook_list(data: Path | None = DataOption) -> None:
    """The endpoints: id, URL, events, the secret's fingerprint (never the secret)."""
    views = run_service(data, services.list_webhook_endpoints)
    ja = current_language() == "ja"
    if not views:
        typer.echo("Webhookの送信先はありません。" if ja else "no webhook endpoints")
    for view in views:
        events = ",".join(view.events)  # as --events takes them
        if ja:
            note = f"  メモ: {view.description}" if view.description else ""
            typer.echo(f"{view.id:>4}  {view.url}  イベント: {events}  "
                       f"シークレットの指紋: {view.secret_fingerprint}{note}")  # fmt: skip
            continue
        note = f"  # {view.description}" if view.description else ""
        typer.echo(
            f"{view.id:>4}  {view.url}  events={events}  secret={view.secret_fingerprint}{note}"
        )


@webhook_app.command("remove")
def webhook_remove(
    endpoint_id: int = typer.Argument(..., help="The endpoint's id (see `webhook list`)."),
    data: Path | None = DataOption,
) -> None:
    """Stop posting to an endpoint; its undelivered messages are cancelled."""
    cancelled = run_service(
        data, lambda s: services.remove_webhook_endpoint(s, endpoint_id, actor=cli_actor())
    )
    typer.echo(say(
        f"Webhook {endpoint_id}を削除しました（未配信 {cancelled} 件を取り消しました）",
        f"removed webhook {endpoint_id} ({cancelled} undelivered messages cancelled)",
    ))  # fmt: skip


@notices_app.command("run")
def notices_run(data: Path | None = DataOption) -> None:
    """What `serve` does in the background, once: record and queue the notices due today,
    deliver every due outbox message (mails, webhooks), then exit. For cron; safe beside
    running `serve` processes (nothing is sent twice)."""
    from cssec.vendor_service.scheduler import run_scheduled_work  # noqa: PLC0415

    with opened_vendor(data) as vendor:
        done = run_scheduled_work(vendor)
    for notice in done.notices:
        to = notice.recipient or "-"
        typer.echo(say(f"お知らせ {notice.kind}: 契約番号 {notice.contract_id} → {to}",
                       f"notice {notice.kind} contract {notice.contract_id} -> {to}"))  # fmt: skip
    delivered = sum(1 for d in done.deliveries if d.ok)
    failed = len(done.deliveries) - delivered
    typer.echo(say(
        f"お知らせ: {len(done.notices)} 件  配信: {delivered} 件  失敗した試行: {failed} 件",
        f"notices: {len(done.notices)}  delivered: {delivered}  failed attempts: {failed}",
    ))  # fmt: skip
