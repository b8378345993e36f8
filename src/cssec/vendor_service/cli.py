"""`cssec vendor …`: serve the vendor service and run the support desk's actions from a shell.

Every command takes --data (default: a per-user data directory) and honours
CSSEC_VENDOR_DATABASE_URL. Language (`cssec vendor --lang en …`, else the locale, else
Japanese), the one-line error and the exit statuses are cssec.clikit's: 0 success; 1 a
refusal, or `code inspect` of an invalid, expired or revoked code; 2 a usage error or a
fault (OS, database, damaged key files).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from cssec.clikit import LANG_HELP, NEGATIVE, Language, boundary, choose_language, say
from cssec.core.errors import CssecError
from cssec.core.signing import VerifyingKey
from cssec.outfile import OutputExists, write_new_file
from cssec.vendor_service import services
from cssec.vendor_service.cli_data import vendor_settings
from cssec.vendor_service.cli_output import contract_summary, inspection_rows, table_lines
from cssec.vendor_service.keycheck import KeysUnavailable
from cssec.vendor_service.keyring import KeyringError
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.settings import VendorSettings
from cssec.vendor_service.token_cli import token_app
from cssec.vendor_service.tuf_cli import keys_root_app, tuf_app


class VendorKeysUnusable(CssecError):
    code = "vendor_keys_error"
    status = 500
    message_ja = (
        "ベンダーの鍵ファイルを使用できません ({detail})。データディレクトリの鍵ファイルを"
        "確認し、壊れている場合はバックアップから復元してから、もう一度実行してください。"
    )
    message_en = (
        "The vendor's key files cannot be used ({detail}). Check the key files in the data "
        "directory (restore them from a backup if they are damaged), then run the command again."
    )


def _explain(exc: BaseException) -> CssecError | None:
    if isinstance(exc, KeysUnavailable):  # missing or not this database's: exit 2
        return exc.error
    return VendorKeysUnusable(detail=str(exc)) if isinstance(exc, KeyringError) else None


app = typer.Typer(
    cls=boundary(_explain),
    no_args_is_help=True,
    add_completion=False,
    help="The vendor license service.",
)
contract_app = typer.Typer(no_args_is_help=True, help="Contracts and their registration keys.")
code_app = typer.Typer(no_args_is_help=True, help="Activation codes: reissue, revoke, inspect.")
keys_app = typer.Typer(no_args_is_help=True, help="The vendor's signing and HMAC keys.")
user_app = typer.Typer(no_args_is_help=True, help="Support-desk staff accounts.")
app.add_typer(contract_app, name="contract")
app.add_typer(code_app, name="code")
app.add_typer(keys_app, name="keys")
app.add_typer(user_app, name="user")
component_app = typer.Typer(no_args_is_help=True, help="ActiveUpdate components: publish, list.")
app.add_typer(component_app, name="component")
keys_app.add_typer(keys_root_app, name="root")
app.add_typer(tuf_app, name="tuf")
app.add_typer(token_app, name="token")

DATA_HELP = (
    "Data directory (default: $CSSEC_VENDOR_DATA_DIR, else ~/.local/share/cssec/vendor or "
    "$XDG_DATA_HOME)."
)
DataOption = typer.Option(None, "--data", help=DATA_HELP, file_okay=False)
ForceOption = typer.Option(
    False, "--force", help="Replace an existing file (a link is replaced, not followed)."
)

T = TypeVar("T")


@app.callback()
def main(
    ctx: typer.Context,
    lang: Language | None = typer.Option(None, "--lang", case_sensitive=False, help=LANG_HELP),
) -> None:
    """The vendor license service."""
    choose_language(ctx, lang)


def _settings(data: Path | None, *, creating: bool = False) -> VendorSettings:
    """`--data`, else CSSEC_VENDOR_DATA_DIR, else the default (said on stderr); only
    `creating` commands make a database in a default directory (cli_data)."""
    return vendor_settings(data, creating=creating)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _vendor(data: Path | None, *, creating: bool = False) -> Iterator[Vendor]:
    """The opened vendor; its faults (OS, database, key files) reach cssec.clikit's line."""
    vendor = open_vendor(_settings(data, creating=creating))
    try:
        yield vendor
    finally:
        vendor.close()


def _run(data: Path | None, action: Callable[[Session], T]) -> T:
    """Run one service in a fresh session (a CssecError it raises is the command's refusal)."""
    with _vendor(data) as vendor, vendor.session() as session:
        return action(session)


@app.command()
def serve(  # noqa: PLR0917  (Typer maps each parameter to an option)
    data: Path | None = DataOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8100, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (one per CPU core is typical)."
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="Serve HTTPS with this certificate (PEM, chain included)."
    ),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="Its private key (PEM)."),
) -> None:
    """Serve the vendor API (and console); applies database migrations first.

    With --tls-cert/--tls-key it serves HTTPS (console cookies then Secure, responses with
    Strict-Transport-Security). Behind a TLS proxy such as nginx, set
    CSSEC_VENDOR_TRUSTED_PROXIES to the proxy's address so the rate limits see the clients'.

    With --workers N > 1, uvicorn's supervisor starts N processes sharing the port; each
    builds the app from CSSEC_VENDOR_* (--data is passed on as CSSEC_VENDOR_DATA_DIR).
    Share the rate-limit counters between them with CSSEC_VENDOR_RATE_LIMIT_STORAGE=redis://…
    (with the default memory storage each worker counts on its own).
    """
    from cssec.core.clock import SystemClock  # noqa: PLC0415
    from cssec.vendor_service.app import create_app  # noqa: PLC0415  (only `serve` needs it)
    from cssec.vendor_service.tls import serving_files  # noqa: PLC0415
    from cssec.web import serving  # noqa: PLC0415

    settings = _settings(data, creating=True)
    tls = serving_files(tls_cert, tls_key, now=SystemClock().now())
    if tls is not None:  # the console's session cookie only over HTTPS
        settings = settings.model_copy(update={"console_https_only": True})
        os.environ["CSSEC_VENDOR_CONSOLE_HTTPS_ONLY"] = "true"  # for --workers N
    proxies = settings.trusted_proxies
    limits = serving.HttpLimits.of(settings)  # read deadlines, keep-alive, concurrency
    if workers == 1:
        web_app = create_app(settings)
        serving.run(web_app, host=host, port=port, tls=tls, trusted_proxies=proxies, limits=limits)
        return
    # Migrate and create the keys once, here, before the workers race to do it.
    with _vendor(settings.data_dir, creating=True):
        pass
    os.environ["CSSEC_VENDOR_DATA_DIR"] = str(settings.data_dir)
    from cssec.web.metrics import multiprocess_dir  # noqa: PLC0415

    with multiprocess_dir():  # the workers' metrics, summed by /metrics; removed after
        serving.run(
            "cssec.vendor_service.app:create_app_from_environment",
            host=host,
            port=port,
            workers=workers,
            factory=True,
            tls=tls,
            trusted_proxies=proxies,
            limits=limits,
        )


@app.command()
def backup(
    out: Path = typer.Option(..., "--out", help="Archive to write; must not exist (mode 0600)."),
    data: Path | None = DataOption,
    force: bool = ForceOption,
) -> None:
    """Back up the database, the keys and the ActiveUpdate files into one archive (safe while
    `serve` runs; PostgreSQL needs pg_dump on PATH), authenticated with keys/backup.key (made
    at the first backup, never in the archive: keep a copy of it apart; restore needs it)."""
    from cssec.core.clock import SystemClock  # noqa: PLC0415
    from cssec.vendor_service.backup import KEY_FILE, backup_vendor  # noqa: PLC0415

    settings = _settings(data)
    manifest = backup_vendor(settings, out, now=SystemClock().now(), force=force)
    files, database = len(manifest["members"]), manifest["database"]
    typer.echo(say(f"バックアップ: {out}（{files} ファイル、{database}）",
                   f"backup: {out} ({files} files, {database})"))  # fmt: skip
    typer.echo(say(f"バックアップの鍵（restore --key-fileに指定）: {settings.data_dir / KEY_FILE}",
                   f"backup key (restore --key-file): {settings.data_dir / KEY_FILE}"))  # fmt: skip


@app.command()
def restore(
    archive: Path = typer.Argument(..., help="An archive written by `cssec vendor backup`."),
    data: Path | None = DataOption,
    key_file: Path | None = typer.Option(
        None, "--key-file", dir_okay=False,
        help="The backed-up service's keys/backup.key (kept apart from the backups).",
    ),
) -> None:  # fmt: skip
    """Restore a backup into a new or empty data directory (never over one in use), once it
    proves authentic under --key-file (nothing is extracted before); a PostgreSQL dump goes
    into the empty database CSSEC_VENDOR_DATABASE_URL names."""
    from cssec.vendor_service.backup import restore_vendor  # noqa: PLC0415

    settings = _settings(data, creating=True)
    restored = restore_vendor(archive, settings, key_file=key_file)
    # Migrates, and checks the restored keys against the database.
    with _vendor(settings.data_dir, creating=True):
        pass
    made = restored.manifest["created_at"]
    typer.echo(say(f"復元しました: {restored.data_dir}（{made}のバックアップ）",
                   f"restored: {restored.data_dir} (backup of {made})"))  # fmt: skip


@app.command()
def init(data: Path | None = DataOption) -> None:
    """Create the vendor's data directory: database, keys, version 1 of each component
    (`serve` does the same; the other commands never make a database where nobody chose
    one). Safe on a directory in use: it only migrates."""
    with _vendor(data, creating=True) as vendor:
        postgres = vendor.settings.database_url is not None
    where = "PostgreSQL (CSSEC_VENDOR_DATABASE_URL)" if postgres else str(vendor.settings.data_dir)
    typer.echo(say(f"ライセンスサービスのデータ: {where}", f"vendor data: {where}"))


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
    start_day = _parse_day(ctx, start) if start else None
    issued = _run(
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
            actor=_actor(),
        ),
    )
    for line in contract_summary(issued, choose_language(ctx)):
        typer.echo(line)
    for product, code in issued.codes.items():  # one spelling in every language (cli_output)
        typer.echo(f"activation code {product}: {code}")
    typer.echo(issued.registration_key)


def _parse_day(ctx: typer.Context, text: str) -> date:
    """A --start date; a malformed one is a usage error (exit 2)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        ja = f"日付 {text!r}を YYYY-MM-DD 形式で指定してください。"
        en = f"give the date {text!r} as YYYY-MM-DD."
        message = ja if choose_language(ctx) == "ja" else en
        raise typer.BadParameter(message, ctx=ctx, param_hint="--start") from exc


@contract_app.command("renew")
def contract_renew(
    key_or_code: str = typer.Argument(..., help="Registration key or activation code."),
    months: int = typer.Option(12, "--months", help="Months to add to the current end."),
    data: Path | None = DataOption,
) -> None:
    """Move the contract's end later; online servers see it at their next status check."""
    renewed = _run(
        data, lambda s: services.renew_contract(s, key_or_code, months=months, actor=_actor())
    )
    typer.echo(say(
        f"契約番号 {renewed.contract_id}の終了日: {renewed.previous_end} → {renewed.end}",
        f"contract {renewed.contract_id}: {renewed.previous_end} -> {renewed.end}",
    ))  # fmt: skip


@code_app.command("reissue")
def code_reissue(
    key_or_code: str = typer.Argument(..., help="Registration key or activation code."),
    product: str | None = typer.Option(
        None, "--product", help="CS or DCS (default: the given code's product, else CS)."
    ),
    data: Path | None = DataOption,
) -> None:
    """Issue a new activation code carrying the contract's current end (offline renewal)."""
    code = _run(
        data,
        lambda s: services.issue_replacement_code(
            s, key_or_code, product=product, actor=_actor(), lift_revocation=True
        ),
    )
    typer.echo(code)


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
        lines.append(
            f"  {c.code}  {c.product}  {contract} ({c.customer})  {expiry}  {state}{given}"
        )
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
    with _vendor(data) as vendor, vendor.session() as session:
        preview = services.revocation_preview(session, code)
        for line in _covered_lines(preview, choose_language(ctx)):
            typer.echo(line)
        services.revoke_code(session, code, actor=_actor(), reason=reason)
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
    found = _run(data, lambda s: services.inspect_code(s, code))
    lang = choose_language(ctx)
    for line in table_lines(inspection_rows(found, lang), lang):
        typer.echo(line)
    if found.verdict != "valid":
        raise typer.Exit(NEGATIVE)


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
    with _vendor(data) as vendor:
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
    mac_kid, signing_kid = _run(data, lambda s: services.rotate_keys(s, actor=_actor()))
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

    start_day = _parse_day(ctx, start) if start else None
    bar = Progress(console=Console(stderr=True))
    task: list[TaskID] = []

    def progress(done: int, total: int) -> None:
        if not task:  # the terms checked out and the transaction began
            bar.start()
            task.append(bar.add_task("issuing", total=total))
        bar.update(task[0], completed=done)

    try:  # the bar stops before any error line is printed
        with _vendor(data) as vendor, vendor.session() as session:
            issued = services.issue_bulk_contracts(
                session, count=count, seats=seats, out=out, months=months, start=start_day,
                with_dcs=with_dcs, customer=customer, actor=_actor(), progress=progress,
            )  # fmt: skip
    finally:
        bar.stop()
    ids, products = issued.contract_ids, ", ".join(issued.products)
    lines = (
        (f"契約数: {issued.count}（契約番号 {ids[0]}〜{ids[-1]}）",
         f"contracts: {issued.count} (ids {ids[0]}..{ids[-1]})"),
        (f"顧客: {issued.customer}", f"customer: {issued.customer}"),
        (f"ライセンス数: {issued.seats}  製品: {products}",
         f"seats: {issued.seats}  products: {products}"),
        (f"契約期間: {issued.start} 〜 {issued.end}", f"term: {issued.start} .. {issued.end}"),
        (f"CSVファイル: {issued.out}", f"csv: {issued.out}"),
        (f"SHA-256: {issued.sha256}", f"sha256: {issued.sha256}"),
    )  # fmt: skip
    for ja, en in lines:
        typer.echo(say(ja, en))


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Login name."),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="File whose first line is the password (default: prompt).",
        exists=True, dir_okay=False, readable=True,
    ),
    role: str = typer.Option("staff", "--role", help="staff or admin."),
    data: Path | None = DataOption,
) -> None:  # fmt: skip
    """Create a support-desk account (argon2-hashed password)."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _run(
        data,
        lambda s: services.add_user(s, name=name, password=password, role=role, actor=_actor()),
    )
    role = {"staff": "担当者", "admin": "管理者"}.get(user.role, user.role)
    typer.echo(say(f"アカウントを作成しました: {user.name}（{role}）",
                   f"user: {user.name} ({user.role})"))  # fmt: skip


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
    published = _run(
        data, lambda s: publish_component(s, name, content, actor=_actor(), rollout=plan)
    )
    version = published.component_version
    typer.echo(
        f"published {version.component.value} version {version.version} "
        f"(sha256 {version.sha256}, {version.size} bytes); manifest serial {published.serial}"
    )
    if plan is not None:
        rings = ",".join(str(r) for r in plan.rings)
        typer.echo(
            f"staged rollout: rings {rings} %, every {plan.step_hours} h "
            f"(cssec vendor component rollout show {version.component.value})"
        )


@component_app.command("list")
def component_list(
    name: str | None = typer.Argument(None, help="Only this component."),
    data: Path | None = DataOption,
) -> None:
    """Every published version, newest first; the current one of each component is marked *."""
    from cssec.vendor_service.activeupdate import list_component_versions  # noqa: PLC0415

    versions = _run(data, lambda s: list_component_versions(s, name))
    seen: set[str] = set()
    for v in versions:
        mark = " " if v.component.value in seen else "*"
        seen.add(v.component.value)
        published = v.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        typer.echo(
            f"{mark} {v.component.value:<24} v{v.version:<4} {v.sha256}  {v.size:>9}  {published}"
        )


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
    bundle = _run(data, lambda s: make_bundle(s, code, actor=_actor()))
    write_new_file(out, bundle.data, mode=0o644, force=force)
    typer.echo(f"bundle: {bundle_summary(bundle)}")
    typer.echo(f"written to: {out}")


webhook_app = typer.Typer(
    no_args_is_help=True, help="Outgoing webhooks (Standard Webhooks): add, list, remove."
)
app.add_typer(webhook_app, name="webhook")
notices_app = typer.Typer(no_args_is_help=True, help="Contract notices and the outbox.")
app.add_typer(notices_app, name="notices")


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
    view = _run(
        data,
        lambda s: services.add_webhook_endpoint(
            s,
            url=url,
            secret=secret,
            events=events.split(","),
            description=description,
            actor=_actor(),
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
    views = _run(data, services.list_webhook_endpoints)
    for view in views:
        note = f"  # {view.description}" if view.description else ""
        typer.echo(
            f"{view.id:>4}  {view.url}  events={','.join(view.events)}  "
            f"secret={view.secret_fingerprint}{note}"
        )


@webhook_app.command("remove")
def webhook_remove(
    endpoint_id: int = typer.Argument(..., help="The endpoint's id (see `webhook list`)."),
    data: Path | None = DataOption,
) -> None:
    """Stop posting to an endpoint; its undelivered messages are cancelled."""
    cancelled = _run(
        data, lambda s: services.remove_webhook_endpoint(s, endpoint_id, actor=_actor())
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

    with _vendor(data) as vendor:
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


license_app = typer.Typer(no_args_is_help=True, help="Air-gapped renewal by file.")
app.add_typer(license_app, name="license")


@license_app.command("respond")
def license_respond(
    request_file: Path = typer.Argument(..., help="The server's REQ.json.", exists=True,
                                        dir_okay=False, readable=True),
    out: Path = typer.Option(..., "--out", help="Where to write RESP.json.", dir_okay=False),
    data: Path | None = DataOption,
    force: bool = ForceOption,
) -> None:  # fmt: skip
    """Answer a server's renewal request (`cssec server license request`) with the signed
    statements of its codes, for `cssec server license import` on the air-gapped server."""
    from cssec.vendor_service.services.offline_renewal import respond  # noqa: PLC0415

    if not force and (out.exists() or out.is_symlink()):
        raise OutputExists(path=str(out))  # before the response is recorded
    raw = request_file.read_bytes()
    with _vendor(data) as vendor, vendor.session() as session:
        answer = respond(session, raw, actor=_actor(), now=vendor.clock.now())
    write_new_file(out, answer, mode=0o644, force=force)
    typer.echo(say(f"更新応答ファイルを作成しました: {out}", f"response: {out}"))


@user_app.command("reset-2fa")
def user_reset_2fa(
    name: str = typer.Argument(..., help="Login name."),
    data: Path | None = DataOption,
) -> None:
    """Turn a staff member's second factor off (a lost authenticator): secret and recovery
    codes removed, their sessions ended; they enrol again at the next login when the
    console requires it (CSSEC_VENDOR_CONSOLE_REQUIRE_TOTP)."""
    from cssec.vendor_service.services.two_factor import reset  # noqa: PLC0415

    _run(data, lambda s: reset(s, name, actor=_actor()))
    typer.echo(say(f"二要素認証を解除しました: {name}", f"second factor reset: {name}"))


@user_app.command("enrol-2fa")
def user_enrol_2fa(
    name: str = typer.Argument(..., help="Login name."),
    data: Path | None = DataOption,
) -> None:
    """Give a staff member a second factor from the shell (a first administrator, the
    demo): prints the TOTP secret, its otpauth:// URI and ten recovery codes, once. Hand
    them over privately; the console asks for a code from the next login on, and every
    session of the user opened before ends."""
    from cssec.core.clock import SystemClock  # noqa: PLC0415
    from cssec.vendor_service.services.two_factor import enroll_issued  # noqa: PLC0415

    issued = _run(data, lambda s: enroll_issued(s, name, now=SystemClock().now(), actor=_actor()))
    typer.echo(f"totp secret: {issued.secret}")
    typer.echo(f"totp uri: {issued.uri}")
    typer.echo(f"recovery codes: {' '.join(issued.recovery_codes)}")


def _register_rollout_commands() -> None:
    from cssec.vendor_service.activeupdate.cli_rollout import rollout_app  # noqa: PLC0415

    component_app.add_typer(rollout_app, name="rollout")


_register_rollout_commands()
