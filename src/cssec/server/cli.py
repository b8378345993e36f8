"""`cssec server …`: install, serve, and the license commands (mounted by cssec.cli).

Language, the one error line and the exit statuses are cssec.clikit's: 0 success, 1 a
refusal (`error: <code>: <message>` on stderr), 2 a usage error or a fault. `_boundary`
names a database or OS failure after the data directory (a full disk is named as such,
exit 2), and prints the warnings the command logged only when it succeeds, so a failure
stays one line. `--lang` works on `cssec server` and on each command that prints text.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import httpx
import typer

from cssec.clikit import (
    LANG_HELP,
    Fault,
    Language,
    boundary,
    choose_data_dir,
    choose_language,
    say,
    say_data_dir,
)
from cssec.core.clock import SystemClock, zone
from cssec.core.errors import CssecError
from cssec.outfile import OutputExists, write_new_file
from cssec.server.cli_admin import admin_app
from cssec.server.cli_cert import cert_app
from cssec.server.licensing.activation import LicenseEnv, activate_code, check_status_online
from cssec.server.licensing.clockguard import server_info
from cssec.server.licensing.errors import NotInstalled
from cssec.server.licensing.install import InstallRequest, install_server, read_password_file
from cssec.server.licensing.refusals import applied_refusal_message
from cssec.server.licensing.trust import load_trust
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.licensing.view import SlotView, read_licenses
from cssec.server.settings import ServerSettings, default_data_dir
from cssec.server.storage.datadir import DataDir, open_database
from cssec.server.storage.errors import STORAGE_ERRORS, storage_error
from cssec.server.tls.certificate import prepare_certificate, serving_files
from cssec.server.tls.vendor import VendorTls
from cssec.server.updates.service import rollback_components, update_components
from cssec.server.updates.tuf_events import stale_message
from cssec.server.updates.view import read_overview

app = typer.Typer(
    cls=boundary(lambda exc: _explain(exc, None)),
    no_args_is_help=True,
    add_completion=False,
    help="The C/S Sec. server.",
)
license_app = typer.Typer(no_args_is_help=True, help="License slots of an installed server.")
app.add_typer(license_app, name="license")
components_app = typer.Typer(
    no_args_is_help=True, help="Components (patterns, template, engine) and ActiveUpdate."
)
app.add_typer(components_app, name="components")
app.add_typer(cert_app, name="cert")
app.add_typer(admin_app, name="admin")

T = TypeVar("T")
P = ParamSpec("P")
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: per-user).")
]
LangOption = Annotated[
    Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace an existing file (a link is replaced, not followed)."),
]


def vendor_transport() -> httpx.AsyncBaseTransport | None:
    """The transport for vendor calls; tests replace this to reach an in-process vendor."""
    return None


@app.callback()
def main(
    ctx: typer.Context,
    lang: Annotated[
        Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
    ] = None,
) -> None:
    """The C/S Sec. server."""
    choose_language(ctx, lang)


def _explain(exc: BaseException, data: object) -> CssecError | None:
    return storage_error(exc, path=_data_path(data)) if isinstance(exc, STORAGE_ERRORS) else None


def _data_path(data: object) -> Path | str:
    """The data directory a command works on, for naming it in an error."""
    if isinstance(data, Path):
        return data
    try:
        return _settings(None).data_dir
    except Exception:  # only for the message; the settings error is not ours
        return "?"


class _Warnings(logging.Handler):
    """Collects the warnings cssec logs during a command, each as one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(" ".join(record.getMessage().split()))


def _boundary(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command: a database or an OS failure becomes a `Fault` naming its data
    directory (one line, exit 2); its warnings are printed only when it succeeds."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        warnings = _Warnings()
        logger = logging.getLogger("cssec")
        logger.addHandler(warnings)
        try:
            command(*args, **kwargs)
        except STORAGE_ERRORS as exc:
            error = _explain(exc, kwargs.get("data"))
            if error is None:  # pragma: no cover - STORAGE_ERRORS are all explained
                raise
            raise Fault(error) from None
        finally:
            logger.removeHandler(warnings)
        for line in warnings.lines:
            typer.echo(say(f"警告: {line}", f"warning: {line}"), err=True)

    return run


def _run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


def _settings(data: Path | None) -> ServerSettings:
    return ServerSettings(data_dir=data) if data is not None else ServerSettings()


def _chosen(data: Path | None, *, install: bool = False) -> Path:
    """`--data`, else CSSEC_SERVER_DATA_DIR, else the per-user default, said on stderr when
    `--data` did not say it (a server is made only by `install`, never by another command)."""
    choice = choose_data_dir(data, variable="CSSEC_SERVER_DATA_DIR", default=default_data_dir())
    if install or DataDir(choice.path).is_installed():  # else NotInstalled names it, one line
        say_data_dir(choice)
    return choice.path


def _open_env(data: Path | None) -> LicenseEnv:
    """The installed server's license environment (NotInstalled when there is none)."""
    return _env(_settings(_chosen(data)))


def _env(settings: ServerSettings) -> LicenseEnv:
    data = DataDir(settings.data_dir)
    if not data.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    _engine, sessions = open_database(data)
    with sessions() as session:
        url = settings.vendor_url or server_info(session).vendor_url
    transport = vendor_transport()
    tls = VendorTls.load(data)

    def vendor() -> VendorClient:
        return VendorClient(
            url,
            transport=transport,
            proxy=settings.http_proxy,
            timeout=settings.vendor_timeout_seconds,
            tls=tls,
        )

    return LicenseEnv(
        sessionmaker=sessions,
        clock=SystemClock(),
        tz=zone(settings.timezone),
        data=data,
        vendor=vendor if url else None,
        seat_window_days=settings.seat_window_days,
    )


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
    _print_slots(licenses.slots, lang, as_json=as_json)


def _print_slots(slots: list[SlotView], lang: str, *, as_json: bool) -> None:
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


@app.command()
@_boundary
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
    settings = _settings(_chosen(data, install=True))
    password = read_password_file(admin_password_file)
    trust = load_trust(fingerprints=vendor_key_fingerprint or (), keys_file=vendor_keys_file)
    tls = prepare_certificate(
        now=SystemClock().now(), hostnames=hostname or (), cert_file=tls_cert, key_file=tls_key
    )
    vendor_tls = VendorTls.from_ca_file(vendor_ca_file, allow_http=insecure_http)
    result = _run(
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
            transport=vendor_transport(),
            proxy=settings.http_proxy,
            timeout_seconds=settings.vendor_timeout_seconds,
        )
    )
    labels = _INSTALLED[language]
    typer.echo(f"{labels[0]}{result.data_dir}")
    typer.echo(f"{labels[1]}{result.server_id}")
    typer.echo(f"{labels[2]}{result.tls_fingerprint}")
    _print_slots(result.slots, language, as_json=False)
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

    settings = _settings(_chosen(data))
    if not DataDir(settings.data_dir).is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    tls = None if insecure_http else serving_files(DataDir(settings.data_dir))
    if tls is not None:  # cookies only over HTTPS (Secure), like the console's
        settings = settings.model_copy(update={"cookie_secure": True})
    try:
        application = create_app(settings)
    except STORAGE_ERRORS as exc:
        error = _explain(exc, settings.data_dir)
        if error is None:  # pragma: no cover - STORAGE_ERRORS are all explained
            raise
        raise Fault(error) from None
    limits = HttpLimits.of(settings)
    run(application, host=host, port=port, log_level="info", tls=tls, limits=limits)


@app.command()
@_boundary
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

    settings = _settings(data)
    manifest = backup_server(settings, out, now=SystemClock().now(), force=force)
    files, key = len(manifest["members"]), DataDir(settings.data_dir).backup_key
    typer.echo(say(f"バックアップ: {out}（{files} ファイル）", f"backup: {out} ({files} files)"))
    typer.echo(say(f"バックアップの鍵（restore --key-fileに指定）: {key}",
                   f"backup key (restore --key-file): {key}"))  # fmt: skip


@app.command()
@_boundary
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

    settings = _settings(data)
    restored = restore_server(archive, settings.data_dir, key_file=key_file)
    engine, _sessions = open_database(DataDir(settings.data_dir))  # migrates to this version
    try:
        check_server_keys(DataDir(settings.data_dir), engine)
    finally:
        engine.dispose()
    made = restored.manifest["created_at"]
    typer.echo(say(f"復元しました: {restored.data_dir}（{made}のバックアップ）",
                   f"restored: {restored.data_dir} (backup of {made})"))  # fmt: skip


@license_app.command("show")
@_boundary
def license_show(
    ctx: typer.Context,
    data: DataOption = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show the license slots (state computed now)."""
    language = choose_language(ctx, lang)
    _print_licenses(_open_env(data), language, as_json=as_json)


@license_app.command("check-online")
@_boundary
def license_check_online(
    ctx: typer.Context, data: DataOption = None, lang: LangOption = None
) -> None:
    """Check every slot's status with the vendor now (safe while `serve` runs)."""
    language = choose_language(ctx, lang)
    env = _open_env(data)
    outcomes = _run(check_status_online(env, actor="cli"))
    _print_licenses(env, language, as_json=False)
    for outcome in outcomes:
        if outcome.applied is not None:
            message = applied_refusal_message(outcome.product, outcome.applied)
            typer.echo(message[language], err=True)
    failed = [o for o in outcomes if o.error is not None]
    if failed and failed[0].error is not None:
        raise failed[0].error


@license_app.command("activate")
@_boundary
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
    env = _open_env(data)
    slot = _run(activate_code(env, code, actor="cli", confirm=confirm))
    _print_slots([slot], language, as_json=False)
    if not slot.confirmed_online:
        typer.echo(
            "warning: not confirmed online (accepted on format and expiry) / "
            "オンラインで確認できなかったため、形式と有効期限で受け付けました",
            err=True,
        )


@license_app.command("request")
@_boundary
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
            "product's current code); importing the response puts it in effect.",
        ),
    ] = None,
) -> None:
    """Write a renewal request signed by this server, for a license service it cannot
    reach: answer it with `cssec vendor license respond` (or the portal), then import."""
    from cssec.server.licensing.offline_renewal import write_request  # noqa: PLC0415

    language = choose_language(ctx, lang)
    if not force and (out.exists() or out.is_symlink()):
        raise OutputExists(path=str(out))  # before the request is recorded
    written = write_request(_open_env(data), actor="cli", new_code=code)
    write_new_file(out, written.data, mode=0o644, force=force)
    typer.echo(f"request: {out}" if language == "en" else f"更新要求ファイルを作成しました: {out}")


@license_app.command("import")
@_boundary
def license_import(
    ctx: typer.Context,
    response: Annotated[
        Path,
        typer.Argument(help="The license service's RESP.json.", exists=True, dir_okay=False),
    ],
    data: DataOption = None,
    lang: LangOption = None,
) -> None:
    """Import the license service's response to this server's request: the slots are
    extended exactly as an online check would."""
    from cssec.server.licensing.offline_renewal import import_response  # noqa: PLC0415

    language = choose_language(ctx, lang)
    env = _open_env(data)
    outcome = import_response(env, response.read_bytes(), actor="cli")
    typer.echo(outcome.message(language))
    if not outcome.already_imported:
        _print_licenses(env, language, as_json=False)


@components_app.command("show")
@_boundary
def components_show(
    ctx: typer.Context,
    data: DataOption = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the current and previous version of each component and the last update."""
    language = choose_language(ctx, lang)
    env = _open_env(data)
    with env.sessionmaker() as session:
        overview = read_overview(session, now=env.clock.now(), tz=env.tz, data_root=env.data.root)
    if as_json:
        typer.echo(json.dumps(overview.to_dict(), ensure_ascii=False, indent=2))
        return
    for row in overview.rows:
        current = row.current.version if row.current else "-"
        previous = row.previous.version if row.previous else "-"
        before = f"（以前: {previous}）" if language == "ja" else f" (previous: {previous})"
        typer.echo(f"{row.component.label(language)}: {current}{before}")
    last = overview.last_log
    if last is not None:
        message = last.message_en if language == "en" else last.message_ja
        from cssec.server.logs.update_logs import RESULT_LABELS  # noqa: PLC0415

        result = RESULT_LABELS.get(last.result, {}).get(language, last.result)
        when = last.at.isoformat()
        typer.echo(say(f"最後のアップデート: {when} {result}: {message}",
                       f"last update: {when} {result}: {message}"))  # fmt: skip
    if overview.stale_since is not None:
        typer.echo(stale_message(overview.stale_since, env.tz)[language], err=True)
    if not overview.download.allowed:
        typer.echo(overview.download.message_in(language), err=True)


@components_app.command("update")
@_boundary
def components_update(ctx: typer.Context, data: DataOption = None, lang: LangOption = None) -> None:
    """Update the components from ActiveUpdate now (safe while `serve` runs)."""
    language = choose_language(ctx, lang)
    env = _open_env(data)
    outcome = _run(update_components(env, trigger="cli", actor="cli"))
    if outcome.error is not None:
        raise outcome.error
    typer.echo(outcome.message[language])


@components_app.command("rollback")
@_boundary
def components_rollback(
    ctx: typer.Context, data: DataOption = None, lang: LangOption = None
) -> None:
    """Undo the latest component update (all components of it, as the vendor signed them)."""
    language = choose_language(ctx, lang)
    env = _open_env(data)
    outcome = rollback_components(env, trigger="cli", actor="cli")
    typer.echo(outcome.message[language])


@components_app.command("rollout-timing")
@_boundary
def components_rollout_timing(
    ctx: typer.Context,
    timing: Annotated[
        str | None,
        typer.Argument(help="early, standard or late; without: show the current choice."),
    ] = None,
    data: DataOption = None,
    lang: LangOption = None,
) -> None:
    """When this server takes a version the vendor rolls out in stages: early (among the
    first 10 %), standard, or late (only in the rings above 50 %)."""
    from cssec.server.updates.rollout_timing import (  # noqa: PLC0415
        rollout_timing,
        set_rollout_timing,
    )

    language = choose_language(ctx, lang)
    env = _open_env(data)
    if timing is not None:
        try:
            set_rollout_timing(env.data.root, timing)
        except ValueError:
            typer.echo(
                "early、standard、lateのいずれかを指定してください。"
                if language == "ja"
                else "Give early, standard or late.",
                err=True,
            )
            raise typer.Exit(2) from None
    current = rollout_timing(env.data.root)
    typer.echo(f"段階的配信: {current}" if language == "ja" else f"staged rollouts: {current}")


@components_app.command("import")
@_boundary
def components_import(
    ctx: typer.Context,
    bundle: Annotated[
        Path,
        typer.Argument(help="The bundle (`cssec vendor component bundle`).", exists=True,
                       dir_okay=False, readable=True),
    ],
    data: DataOption = None,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """Import a component bundle made by the vendor for this site (air-gapped servers):
    verified with TUF as an online update is, refused if older than what is installed."""
    from cssec.server.updates.bundle import (  # noqa: PLC0415
        MAX_BUNDLE_BYTES,
        BundleRefused,
        import_bundle,
    )

    language = choose_language(ctx, lang)
    env = _open_env(data)
    if bundle.stat().st_size > MAX_BUNDLE_BYTES:
        raise BundleRefused("bad_bundle", f"larger than {MAX_BUNDLE_BYTES} bytes")
    outcome = _run(import_bundle(env, bundle.read_bytes(), actor="cli"))
    if outcome.error is not None:
        raise outcome.error
    typer.echo(outcome.message[language])


__all__ = ["app"]
