"""The demo's processes (`cssec demo`): each part runs as its own `cssec` process, set up
and stopped as an operator would, and the clients' heartbeats.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console

CSSEC = [sys.executable, "-m", "cssec"]


class DemoError(Exception):
    pass


def said(lang: str, ja: str, en: str) -> str:
    """`ja` or `en`: the demo speaks the language its command chose (`cssec demo --lang`)."""
    return en if lang == "en" else ja


@dataclass
class Demo:
    root: Path
    console: Console
    lang: str = "ja"
    """The output language (`cssec demo --lang`, else the locale); its commands speak it too."""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    clients: list[Path] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    """CSSEC_* settings of the demo's processes (the vendor's mail server and portal URL)."""
    skipped: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Per client after failed heartbeats: (failures in a row, beats still to skip)."""

    def heartbeats(self) -> None:
        """Each client says it is up, as an installed client's service would.

        A failure is one line. A client the server no longer recognises (removed in the
        Web manager) is said once and left alone; after any other failure a client skips
        1, 2, 4 … (at most 12) beats before it tries again."""
        for client in list(self.clients):
            failures, wait = self.skipped.get(client, (0, 0))
            if wait:
                self.skipped[client] = (failures, wait - 1)
                continue
            try:
                self.run("client", "heartbeat", "--dir", str(client))
            except DemoError as exc:
                reason = " ".join(str(exc).split())
                name = client.name
                if "error: not_authenticated:" in reason:
                    self.clients.remove(client)
                    self._say(said(
                        self.lang,
                        f"{name}: サーバがこのクライアントを認識しなくなりました（Webマネージャで"
                        f"削除されましたか?）。このクライアントのハートビートを止めます。{reason}",
                        f"{name}: the server no longer knows this client (removed in the Web "
                        f"manager?); its heartbeats stop. {reason}",
                    ))  # fmt: skip
                    continue
                wait = min(2**failures, 12)
                self.skipped[client] = (failures + 1, wait)
                self._say(said(
                    self.lang,
                    f"{name}: ハートビートに失敗しました（次は{wait + 1}回後に試します）: {reason}",
                    f"{name}: heartbeat failed (next try in {wait + 1} beats): {reason}",
                ))  # fmt: skip
            else:
                self.skipped.pop(client, None)

    def _say(self, line: str) -> None:
        self.console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)

    def run(self, *args: str, secret_input: str | None = None) -> str:
        """Runs one cssec command to completion and returns its standard output."""
        # Each part takes `--lang` (`cssec vendor --lang en …`): its errors, quoted in a
        # DemoError, then speak the demo's language.
        result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [*CSSEC, *self._with_lang(args)],
            capture_output=True,
            text=True,
            check=False,
            input=secret_input,
            env=self._env(),
        )
        if result.returncode != 0:
            reason = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
            command, why = " ".join(args[:3]), " ".join(reason)
            raise DemoError(
                said(self.lang, f"「cssec {command}」が失敗しました: {why}",
                     f"`cssec {command}` failed: {why}")
            )  # fmt: skip
        return result.stdout

    def _with_lang(self, args: Sequence[str]) -> list[str]:
        if not args or args[0] not in {"vendor", "server", "client"} or "--lang" in args:
            return list(args)
        return [args[0], "--lang", self.lang, *args[1:]]

    def start(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        # A process group of its own: `stop` can kill a straggler with its workers.
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [*CSSEC, *args], stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)

    def stop(self) -> None:
        # A second Ctrl-C or SIGTERM must not cut this short and leave orphans: it ends
        # within the deadline below anyway (then the stragglers are killed). The children
        # run in sessions of their own, so a terminal's Ctrl-C reaches only this process;
        # each child gets exactly one SIGTERM from here (uvicorn's graceful stop).
        previous = [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]
        try:
            for process in reversed(self.processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in self.processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)  # its workers too
                    process.wait()
        finally:
            signal.signal(signal.SIGINT, previous[0] or signal.SIG_DFL)
            signal.signal(signal.SIGTERM, previous[1] or signal.SIG_DFL)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("CSSEC_VENDOR_DATABASE_URL", None)  # the demo is SQLite only
        env.update(self.settings)
        return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def trusting(cert: Path) -> ssl.SSLContext:
    """Verifies against exactly this certificate (the demo's own, self-signed)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.check_hostname = False  # the pin is the whole certificate
    return context


def wait_until_up(
    url: str,
    processes: Sequence[subprocess.Popen[bytes]],
    timeout: float = 60,
    verify: ssl.SSLContext | bool = True,
    lang: str = "ja",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise DemoError(
                said(lang, f"{url}の応答を待つ間にプロセスが終了しました。ログを確認してください",
                     f"a process exited while waiting for {url}; see the logs")
            )  # fmt: skip
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, verify=verify).status_code < 500:
                return
        time.sleep(0.2)
    raise DemoError(
        said(lang, f"{url}が{timeout:.0f}秒以内に応答しませんでした",
             f"{url} did not answer within {timeout:.0f} s")
    )  # fmt: skip
