"""The one `cssec` command: vendor, server, client and demo."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="C/S Sec. licensing: vendor service, on-site server, client.")


@app.command()
def demo() -> None:
    """Start a vendor, a server and two clients with demo data."""
    typer.echo("cssec demo: not yet")
