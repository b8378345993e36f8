"""`cssec vendor keys root init` and `cssec vendor tuf root install`: the TUF root ceremony.

The root keys are made on (and stay on) an offline machine or removable medium: `init`
writes them to --out, never to a data directory; `install` reads them once to sign a root
for the service (and refuses a key directory inside the service's data directory).
"""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import say
from cssec.core.errors import CssecError, Phrase
from cssec.vendor_service.cli_data import vendor_settings
from cssec.vendor_service.runtime import open_vendor

keys_root_app = typer.Typer(no_args_is_help=True, help="The offline TUF root keys.")
tuf_app = typer.Typer(no_args_is_help=True, help="ActiveUpdate as a TUF repository.")
tuf_root_app = typer.Typer(no_args_is_help=True, help="The TUF root.json.")
tuf_app.add_typer(tuf_root_app, name="root")

DataOption = typer.Option(
    None, "--data", help="Data directory (default: $CSSEC_VENDOR_DATA_DIR).", file_okay=False
)


class TufRootRefused(CssecError):
    code = "tuf_root_refused"
    status = 400
    message_ja = "TUFのルートを作成できません: {detail}"
    message_en = "The TUF root cannot be made: {detail}"


@keys_root_app.command("init")
def root_init(
    out: Path = typer.Option(..., "--out", help="Directory for the offline root keys.",
                             file_okay=False),
    threshold: int = typer.Option(2, "--threshold", help="Signatures a root needs."),
    keys: int = typer.Option(3, "--keys", help="How many root keys to make."),
) -> None:  # fmt: skip
    """Make the offline Ed25519 root keys (root-N.pem, root-keys.json) in --out; keep that
    directory off the serving host."""
    from cssec.vendor_service.activeupdate.tuf_keys import (  # noqa: PLC0415
        RootKeyError,
        init_root_keys,
    )

    try:
        kids = init_root_keys(out, threshold=threshold, count=keys)
    except RootKeyError as exc:
        raise TufRootRefused(detail=Phrase(exc.ja, str(exc))) from None
    for kid in kids:
        typer.echo(say(f"ルート鍵: {kid}", f"root key: {kid}"))
    typer.echo(say(f"必要な署名: {keys} 個のうち {threshold} 個",
                   f"threshold: {threshold} of {keys}"))  # fmt: skip
    typer.echo(say(f"書き出し先: {out}", f"written to: {out}"))


@tuf_root_app.command("install")
def root_install(
    root_keys: Path = typer.Option(..., "--root-keys", help="The offline root key directory.",
                                   exists=True, file_okay=False),
    old_root_keys: Path | None = typer.Option(
        None, "--old-root-keys", help="The current root's key directory (a root rotation).",
        exists=True, file_okay=False,
    ),
    data: Path | None = DataOption,
) -> None:  # fmt: skip
    """Sign the next root.json with a threshold of the root keys (and, for a rotation, of
    the current root's) and install it; the service then signs targets, snapshot and
    timestamp with its online keys."""
    from cssec.vendor_service.activeupdate.tuf_keys import (  # noqa: PLC0415
        RootKeyError,
        load_root_keys,
        root_keys_dir_is_served,
    )
    from cssec.vendor_service.activeupdate.tuf_repo import install_root  # noqa: PLC0415

    settings = vendor_settings(data)
    for directory in (root_keys, old_root_keys):
        if directory is not None and root_keys_dir_is_served(directory, settings.data_dir):
            raise TufRootRefused(
                detail=Phrase(
                    f"{directory}はデータディレクトリの中にあります。ルート鍵はオフラインの媒体に"
                    "置いてください",
                    f"{directory} is inside the data directory; keep root keys offline",
                )
            )
    vendor = open_vendor(settings)
    try:
        new = load_root_keys(root_keys)
        old = load_root_keys(old_root_keys) if old_root_keys is not None else None
        with vendor.session() as session:
            version = install_root(session, new, old_keys=old)
    except RootKeyError as exc:
        raise TufRootRefused(detail=Phrase(exc.ja, str(exc))) from None
    finally:
        vendor.close()
    typer.echo(say(f"root.jsonのバージョン {version}を登録しました",
                   f"root.json version {version} installed"))  # fmt: skip
