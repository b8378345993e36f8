"""`cssec server …`: install, serve, backup and restore (mounted by cssec.cli); the
command groups live in cli_license, cli_components, cli_cert and cli_admin, and what they
share in cli_common.

Language, the one error line and the exit statuses are cssec.clikit's: 0 success, 1 a
refusal (`error: <code>: <message>` on stderr), 2 a usage error or a fault.
`cli_common.guarded` names a database or OS failure after the data directory (a full disk
is named as such, exit 2), and prints the warnings the command logged only when it
succeeds, so a failure stays one line. `--lang` works on `cssec server` and on each
command that prints text.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from cssec.clikit import LANG_HELP, Fault, Language, boundary, choose_language, say
from cssec.core.clock import SystemClock, zone
from cssec.server import cli_common
from cssec.server.cli_admin import admin_app
from cssec.server.cli_cert import cert_app
from cssec.server.cli_common import (
    DataOption,
    ForceOption,
    LangOption,
    chosen_dir,
    explain_storage,
    guarded,
    run_async,
    server_settings,
)
from cssec.server.cli_components import components_app
from cssec.server.cli_license import license_app, print_slots
from cssec.server.licensing.errors import NotInstalled
from cssec.server.licensing.install import InstallRequest, install_server, read_password_file
from cssec.server.licensing.trust import load_trust
from cssec.server.storage.datadir import DataDir, open_database
from cssec.server.storage.errors import STORAGE_ERRORS
from cssec.server.tls.certificate import prepare_certificate, serving_files
from cssec.server.tls.vendor import VendorTls

app = typer.Typer(
    name="server",
    cls=boundary(lambda exc: explain_storage(exc, None)),
    no_args_is_help=True,
    add_completion=False,
    help="The C/S Sec. server.",
)
app.add_typer(license_app, name="license")
app.add_typer(components_app, name="components")
app.add_typer(cert_app, name="cert")
app.add_typer(admin_app, name="admin")


@app.callback()
def main(
    ctx: typer.Context,
    lang: Annotated[
        Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
    ] = None,
) -> None:
    """The C/S Sec. server."""
    choose_language(ctx, lang)


@app.command()
@guarded
def install(
    ctx: typer.Context,
    *,
    admin_password_file: Annotated[
        Path, typer.Option("--admin-password-file", help="File whose first line is the password.")
    ],
    vendor_url: Annotated[
        str,
        typer.Option(
            "--vendor-url",
            help="The vendor service's URL (online installs; optional with --offline).",
        ),
    ] = "",
    data: DataOption = None,
    registration_key: Annotated[
        str | None, typer.Option("--registration-key", help="XX-XXXX-XXXX-XXXX-XXXX (online).")
    ] = None,
    activation_code: Annotated[
        str | None, typer.Option("--activation-code", help="The C/S Sec. activation code.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="No network: check the code by its structure.")
    ] = False,
    company: Annotated[
        str, typer.Option("--company", help="For online registration (default: host name).")
    ] = "",
    contact_email: Annotated[
        str, typer.Option("--contact-email", help="For online registration.")
    ] = "",
    vendor_key_fingerprint: Annotated[
        list[str] | None,
        typer.Option(
            "--vendor-key-fingerprint",
            help="sha256:<64 hex> of the vendor's public key, received out of band "
            "('cssec vendor keys public' prints it). Repeatable.",
        ),
    ] = None,
    vendor_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--vendor-keys-file",
            help="The vendor's public keys (the JWKS 'cssec vendor keys public' prints).",
        ),
    ] = None,
    hostname: Annotated[
        list[str] | None,
        typer.Option(
            "--hostname",
            help="Name or address in the server's self-signed certificate (repeatable; "
            "default: this machine's FQDN, its short name and 127.0.0.1).",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert", help="Serve this certificate (PEM) instead of a self-signed one."
        ),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="Its private key (PEM, no passphrase).")
    ] = None,
    vendor_ca_file: Annotated[
        Path | None,
        typer.Option(
            "--vendor-ca-file",
            help="CA certificates (PEM) that verify the vendor's HTTPS, instead of the system "
            "store; kept in the data directory for every later call.",
        ),
    ] = None,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http",
            help="Allow a plain http:// vendor URL that is not loopback (not recommended).",
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Install the server: no activation code (or registration key), no install. The
    vendor's keys are trusted only from what the distribution carries or what is given
    here, never from whatever answers first. Makes the server's TLS certificate (or takes
    --tls-cert/--tls-key) and prints its fingerprint, which clients pin."""
    language = choose_language(ctx, lang)
    settings = server_settings(chosen_dir(data, install=True))
    password = read_password_file(admin_password_file)
    trust = load_trust(fingerprints=vendor_key_fingerprint or (), keys_file=vendor_keys_file)
    tls = prepare_certificate(
        now=SystemClock().now(), hostnames=hostname or (), cert_file=tls_cert, key_file=tls_key
    )
    vendor_tls = VendorTls.from_ca_file(vendor_ca_file, allow_http=insecure_http)
    result = run_async(
        install_server(
            InstallRequest(
                data_dir=settings.data_dir,
                vendor_url=vendor_url,
                admin_password=password,
                registration_key=registration_key,
                activation_code=activation_code,
                offline=offline,
                company=company,
                contact_email=contact_email,
                trust=trust,
                tls=tls,
                vendor_tls=vendor_tls,
            ),
            clock=SystemClock(),
            tz=zone(settings.timezone),
            transport=cli_common.vendor_transport(),
            proxy=settings.http_proxy,
            timeout_seconds=settings.vendor_timeout_seconds,
        )
    )
    labels = _INSTALLED[language]
    typer.echo(f"{labels[0]}{result.data_dir}")
    typer.echo(f"{labels[1]}{result.server_id}")
    typer.echo(f"{labels[2]}{result.tls_fingerprint}")
    print_slots(result.slots, language, as_json=False)
    for product in result.skipped:
        skipped = {"ja": f"{product}は契約期間が終了しているため登録しませんでした。",
                   "en": f"skipped {product}: its contract has ended"}  # fmt: skip
        typer.echo(skipped[language], err=True)
    if offline:  # what an offline site does next (docs/journeys.md, section 5)
        typer.echo(_OFFLINE_NEXT[language].format(data=shlex.quote(str(result.data_dir))))


_INSTALLED = {
    "ja": ("インストール先: ", "サーバID: ", "サーバ証明書のフィンガープリント: "),
    "en": ("installed: ", "server id: ", "tls fingerprint: "),
}
_OFFLINE_NEXT = {
    "ja": "次の手順：法人お問合せ窓口から受け取ったコンポーネントバンドルを取り込むと、"
    "クライアントをアップデートできます（cssec server components import FILE --data {data}）。",
    "en": "Next: import the component bundle from the support desk so that clients can update "
    "(cssec server components import FILE --data {data}).",
}


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8200,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http", help="Serve plain HTTP instead of HTTPS (not recommended)."
        ),
    ] = False,
) -> None:
    """Serve the Web manager and the JSON API over HTTPS; runs the scheduled license checks.

    The certificate is the data directory's (made at install; `cssec server cert renew`
    replaces it), read when serving starts: restart after a renewal."""
    from cssec.server.app import create_app  # noqa: PLC0415 - only this command needs the server
    from cssec.web.serving import HttpLimits, run  # noqa: PLC0415 - uvicorn, with TCP_NODELAY

    settings = server_settings(chosen_dir(data))
    if not DataDir(settings.data_dir).is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    tls = None if insecure_http else serving_files(DataDir(settings.data_dir))
    if tls is not None:  # cookies only over HTTPS (Secure), like the console's
        settings = settings.model_copy(update={"cookie_secure": True})
    try:
        application = create_app(settings)
    except STORAGE_ERRORS as exc:
        error = explain_storage(exc, settings.data_dir)
        if error is None:  # pragma: no cover - STORAGE_ERRORS are all explained
            raise
        raise Fault(error) from None
    limits = HttpLimits.of(settings)
    run(application, host=host, port=port, log_level="info", tls=tls, limits=limits)


@app.command()
@guarded
def backup(
    out: Annotated[
        Path, typer.Option("--out", help="Archive to write; must not exist (mode 0600).")
    ],
    data: DataOption = None,
    force: ForceOption = False,
) -> None:
    """Back up the database, the keys, the certificate and the components into one archive
    (safe while `serve` runs), authenticated with the data directory's backup.key (made at
    the first backup, never in the archive: keep a copy of it apart; restore needs it)."""
    from cssec.server.storage.backup import backup_server  # noqa: PLC0415

    settings = server_settings(data)
    manifest = backup_server(settings, out, now=SystemClock().now(), force=force)
    files, key = len(manifest["members"]), DataDir(settings.data_dir).backup_key
    typer.echo(say(f"バックアップ: {out}（{files}ファイル）", f"backup: {out} ({files} files)"))
    typer.echo(say(f"バックアップの鍵（restore --key-fileに指定）: {key}",
                   f"backup key (restore --key-file): {key}"))  # fmt: skip


@app.command()
@guarded
def restore(
    archive: Annotated[Path, typer.Argument(help="An archive written by `cssec server backup`.")],
    data: DataOption = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="The backed-up server's backup.key (its data directory; kept apart).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Restore a backup into a new or empty data directory (never over one in use), once
    it proves authentic under --key-file; nothing is extracted before."""
    from cssec.server.storage.backup import restore_server  # noqa: PLC0415
    from cssec.server.storage.keycheck import check_server_keys  # noqa: PLC0415

    settings = server_settings(data)
    restored = restore_server(archive, settings.data_dir, key_file=key_file)
    engine, _sessions = open_database(DataDir(settings.data_dir))  # migrates to this version
    try:
        check_server_keys(DataDir(settings.data_dir), engine)
    finally:
        engine.dispose()
    made = restored.manifest["created_at"]
    typer.echo(say(f"復元しました: {restored.data_dir}（{made}のバックアップ）",
                   f"restored: {restored.data_dir} (backup of {made})"))  # fmt: skip


__all__ = ["app"]
