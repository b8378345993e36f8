"""`cssec vendor license respond`: answer an air-gapped server's renewal request by file."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import say
from cssec.outfile import OutputExists, write_new_file
from cssec.vendor_service.cli_common import DataOption, ForceOption, cli_actor, opened_vendor

license_app = typer.Typer(no_args_is_help=True, help="Air-gapped renewal by file.")


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
    with opened_vendor(data) as vendor, vendor.session() as session:
        answer = respond(session, raw, actor=cli_actor(), now=vendor.clock.now())
    write_new_file(out, answer, mode=0o644, force=force)
    typer.echo(say(f"更新応答ファイルを作成しました: {out}", f"response: {out}"))
