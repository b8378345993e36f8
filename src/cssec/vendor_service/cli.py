"""`cssec vendor …`: serve the vendor service and run the support desk's actions from a shell.

Every command takes --data (default: a per-user data directory) and honours
CSSEC_VENDOR_DATABASE_URL. Language (`cssec vendor --lang en …`, else the locale, else
Japanese), the one-line error and the exit statuses are cssec.clikit's: 0 success; 1 a
refusal, or `code inspect` of an invalid, expired or revoked code; 2 a usage error or a
fault (OS, database, damaged key files).

The commands of each group live in their own module (cli_contracts, cli_codes, cli_keys,
cli_users, cli_components, cli_webhooks, cli_license; token_cli, tuf_cli); this one holds
the root group, the commands that run or copy the whole service, and the registration.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cssec.cli_warnings import said_warnings
from cssec.clikit import LANG_HELP, Language, boundary, choose_language, say
from cssec.core.errors import CssecError
from cssec.vendor_service.cli_codes import code_app
from cssec.vendor_service.cli_common import DataOption, ForceOption, opened_vendor
from cssec.vendor_service.cli_components import component_app
from cssec.vendor_service.cli_contracts import contract_app
from cssec.vendor_service.cli_data import vendor_settings
from cssec.vendor_service.cli_keys import keys_app
from cssec.vendor_service.cli_license import license_app
from cssec.vendor_service.cli_users import user_app
from cssec.vendor_service.cli_webhooks import notices_app, webhook_app
from cssec.vendor_service.keycheck import KeysUnavailable
from cssec.vendor_service.keyring import KeyringError
from cssec.vendor_service.token_cli import token_app
from cssec.vendor_service.tuf_cli import tuf_app


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
    name="vendor",
    cls=boundary(_explain),
    no_args_is_help=True,
    add_completion=False,
    help="The vendor license service.",
)
app.add_typer(contract_app, name="contract")
app.add_typer(code_app, name="code")
app.add_typer(keys_app, name="keys")
app.add_typer(user_app, name="user")
app.add_typer(component_app, name="component")
app.add_typer(tuf_app, name="tuf")
app.add_typer(token_app, name="token")
app.add_typer(webhook_app, name="webhook")
app.add_typer(notices_app, name="notices")
app.add_typer(license_app, name="license")


@app.callback()
def main(
    ctx: typer.Context,
    lang: Language | None = typer.Option(None, "--lang", case_sensitive=False, help=LANG_HELP),
) -> None:
    """The vendor license service."""
    choose_language(ctx, lang)
    if ctx.invoked_subcommand != "serve":  # serve logs its warnings as they come
        ctx.with_resource(said_warnings())  # a fixed file mode, say, in the output language


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

    settings = vendor_settings(data, creating=True)
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
    with opened_vendor(settings.data_dir, creating=True):
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

    settings = vendor_settings(data)
    manifest = backup_vendor(settings, out, now=SystemClock().now(), force=force)
    files, database = len(manifest["members"]), manifest["database"]
    named = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(database, database)
    typer.echo(say(f"バックアップ: {out}（{files}ファイル、{named}）",
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

    settings = vendor_settings(data, creating=True)
    restored = restore_vendor(archive, settings, key_file=key_file)
    # Migrates, and checks the restored keys against the database.
    with opened_vendor(settings.data_dir, creating=True):
        pass
    made = restored.manifest["created_at"]
    typer.echo(say(f"復元しました: {restored.data_dir}（{made}のバックアップ）",
                   f"restored: {restored.data_dir} (backup of {made})"))  # fmt: skip


@app.command()
def init(data: Path | None = DataOption) -> None:
    """Create the vendor's data directory: database, keys, version 1 of each component
    (`serve` does the same; the other commands never make a database where nobody chose
    one). Safe on a directory in use: it only migrates."""
    with opened_vendor(data, creating=True) as vendor:
        postgres = vendor.settings.database_url is not None
    where = "PostgreSQL (CSSEC_VENDOR_DATABASE_URL)" if postgres else str(vendor.settings.data_dir)
    typer.echo(say(f"ライセンスサービスのデータ: {where}", f"vendor data: {where}"))
