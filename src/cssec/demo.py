"""`cssec demo`: a vendor, a C/S Sec. server and two clients on loopback, in one command.

Each part runs as its own process and is set up through the same commands an operator
types, so the demo shows the real system, not a shortcut around it. Everything speaks HTTPS:
the vendor with a certificate made here (the server trusts it through --vendor-ca-file), the
server with the one its install made; clients pin it by its fingerprint.

The processes and the heartbeats are `demo_processes`, the setup `demo_setup`, the summary
printed at the end `demo_summary`; this module holds the demo's directory and its run.
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from cssec.cli_language import current_language
from cssec.demo_mail import MailCatcher
from cssec.demo_processes import Demo, DemoError, free_port, said
from cssec.demo_setup import set_up
from cssec.lifecycle import terminate_as_interrupt

HEARTBEAT_EVERY = 300.0
"""Seconds between the demo clients' heartbeats (the server calls a client offline after
30 minutes without contact)."""


@contextlib.contextmanager
def demo_directory(chosen: Path | None, lang: str = "ja") -> Iterator[Path]:
    """`chosen` (made if missing, must be empty), kept afterwards; else a temporary
    directory, deleted when the demo stops."""
    if chosen is not None:
        chosen = chosen.resolve()
        chosen.mkdir(parents=True, exist_ok=True)
        if any(chosen.iterdir()):
            raise DemoError(
                said(
                    lang,
                    f"{chosen}は空ではありません。空のディレクトリか新しいディレクトリを選んでください",
                    f"{chosen} is not empty; choose an empty or new directory",
                )
            )
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix="cssec-demo-") as tmp:
        yield Path(tmp)


def run_demo(
    directory: Path | None = None,
    *,
    vendor_port: int = 0,
    server_port: int = 0,
    lang: str | None = None,
) -> None:
    """`lang`: ja or en (`cssec demo --lang`); by default the invocation's language."""
    lang = lang or current_language()
    console = Console()
    # Ctrl-C (SIGINT) stops the demo even when it was started with SIGINT ignored, as a
    # shell's background job or nohup leaves it (Python keeps an inherited SIG_IGN).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # SIGTERM (systemd, `kill`) takes the way out Ctrl-C takes: the children are stopped.
    with terminate_as_interrupt(), demo_directory(directory, lang) as root:
        demo = Demo(root=root, console=console, lang=lang)
        mail = MailCatcher(root / "mail").start()
        try:
            set_up(demo, vendor_port or free_port(), server_port or free_port(), mail)
            if directory is None:
                console.print(
                    said(
                        lang,
                        f"[bold]Ctrl-Cですべてを止め、{root}を削除します[/bold]"
                        "（データとログイン情報を残すには--dir DIRを付けて起動してください）。",
                        f"[bold]Ctrl-C stops everything and deletes {root}[/bold] "
                        "(start with --dir DIR to keep the data and logins).",
                    ),
                    soft_wrap=True,
                )
            else:
                console.print(
                    said(
                        lang,
                        f"[bold]Ctrl-Cですべてを止めます。データは{root}に残ります。[/bold]",
                        f"[bold]Ctrl-C stops everything; the data stays in {root}.[/bold]",
                    ),
                    soft_wrap=True,
                )
            next_beat = time.monotonic() + HEARTBEAT_EVERY
            while all(p.poll() is None for p in demo.processes):
                time.sleep(0.5)
                if time.monotonic() >= next_beat:
                    demo.heartbeats()
                    next_beat = time.monotonic() + HEARTBEAT_EVERY
            console.print(
                said(
                    lang,
                    "[red]デモのプロセスが予期せず終了しました。上のログを確認してください。[/red]",
                    "[red]A demo process exited unexpectedly; see the logs above.[/red]",
                )
            )
        except KeyboardInterrupt:
            console.print(said(lang, "停止しています …", "Stopping …"))
            console.file.flush()
        finally:
            demo.stop()
            mail.stop()
        if directory is not None:
            console.print(
                said(
                    lang,
                    f"停止しました。データとログは{root}にあります",
                    f"Stopped. The data and logs are in {root}",
                ),
                soft_wrap=True,
            )
