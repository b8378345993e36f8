"""The one `cssec` command: vendor, server, client and demo."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.client.cli import app as client_app
from cssec.demo import DemoError, run_demo
from cssec.server.cli import app as server_app
from cssec.vendor.cli import app as vendor_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="C/S Sec. licensing: the vendor service, the on-site server and its clients.",
)
app.add_typer(vendor_app, name="vendor", help="The vendor license service and ActiveUpdate.")
app.add_typer(server_app, name="server", help="The on-site C/S Sec. server and its Web manager.")
app.add_typer(client_app, name="client", help="The C/S Sec. client agent.")


@app.command()
def demo(
    directory: Path | None = typer.Option(
        None, "--dir", help="An empty directory to keep (default: a temporary one)."
    ),
    vendor_port: int = typer.Option(0, help="Vendor port (default: a free one)."),
    server_port: int = typer.Option(0, help="Server port (default: a free one)."),
) -> None:
    """Start a vendor, a server installed by online registration and two clients, on SQLite."""
    try:
        run_demo(directory, vendor_port=vendor_port, server_port=server_port)
    except DemoError as exc:
        typer.echo(f"cssec demo: {exc}", err=True)
        raise typer.Exit(1) from exc
