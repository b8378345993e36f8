"""`cssec server cert show|renew`: the server's TLS certificate (mounted by cssec.server.cli).

`show` ends with the certificate's fingerprint (`sha256:<64 hex>`), what clients pin and what
the administrator compares out of band. `renew` replaces the certificate and its key; clients
follow because the old key signs the renewal. A running `serve` keeps the old certificate
until it is restarted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cssec.clikit import LANG_HELP, Language, choose_language
from cssec.core.certs import CertificateSummary
from cssec.core.clock import SystemClock
from cssec.server.licensing.errors import NotInstalled
from cssec.server.settings import ServerSettings
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.certificate import prepare_certificate, renew_certificate, show_certificate

cert_app = typer.Typer(
    no_args_is_help=True, help="The server's TLS certificate: show it, renew it."
)
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: per-user).")
]
LangOption = Annotated[
    Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
]
_LABELS = {
    "ja": ("サブジェクト", "発行者", "ホスト名/アドレス", "有効期間", "SPKI SHA-256 (base64)"),
    "en": ("Subject", "Issuer", "Names", "Valid", "SPKI SHA-256 (base64)"),
}


def _data(data: Path | None) -> DataDir:
    settings = ServerSettings(data_dir=data) if data is not None else ServerSettings()
    found = DataDir(settings.data_dir)
    if not found.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    return found


def _print(summary: CertificateSummary, lang: str) -> None:
    subject, issuer, names, valid, spki = _LABELS[lang]
    typer.echo(f"{subject}: {summary.subject}")
    typer.echo(f"{issuer}: {summary.issuer}")
    typer.echo(f"{names}: {', '.join(summary.names) or '-'}")
    typer.echo(
        f"{valid}: {summary.not_before:%Y-%m-%d %H:%M} UTC - {summary.not_after:%Y-%m-%d %H:%M} UTC"
    )
    typer.echo(f"{spki}: {summary.spki_sha256}")
    typer.echo(summary.fingerprint)


@cert_app.command("show")
def cert_show(ctx: typer.Context, data: DataOption = None, lang: LangOption = None) -> None:
    """Subject, names, validity; the last line is the fingerprint clients pin."""
    language = choose_language(ctx, lang)
    _print(show_certificate(_data(data)), language)


@cert_app.command("renew")
def cert_renew(  # noqa: PLR0917  (Typer maps each parameter to an option)
    ctx: typer.Context,
    data: DataOption = None,
    hostname: Annotated[
        list[str] | None,
        typer.Option(
            "--hostname",
            help="Names/addresses of the new certificate (repeatable; "
            "default: those of the current one).",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Use this certificate (PEM) instead.")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="Its private key (PEM, no passphrase).")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Replace the certificate and its key. The old key signs the renewal, so enrolled
    clients follow it; restart `cssec server serve` to serve the new certificate."""
    language = choose_language(ctx, lang)
    found = _data(data)
    now = SystemClock().now()
    material = None
    if tls_cert is not None or tls_key is not None or hostname:
        material = prepare_certificate(
            now=now, hostnames=hostname or (), cert_file=tls_cert, key_file=tls_key
        )
    renewed = renew_certificate(found, now=now, material=material)
    if renewed.old is not None:
        previous = "以前の指紋" if language == "ja" else "previous fingerprint"
        typer.echo(f"{previous}: {renewed.old.fingerprint}")
    typer.echo(
        "サーバを再起動すると新しい証明書が使われます (cssec server serve)。"
        if language == "ja"
        else "Restart the server (cssec server serve) to serve the new certificate.",
        err=True,
    )
    _print(renewed.new, language)
