"""Run the cssec CLI and SIGKILL it at its N-th durable step (test code, not a hook in cssec).

    python tests/faults/crashpoint.py N [--trace FILE] [--root DIR]... -- <cssec args>

A *step* is one of:
- a database statement about to run (SQLAlchemy `before_cursor_execute`, every engine),
- a commit about to happen (`commit`) and one that just happened (Session `after_commit`),
- a file-system change under one of the `--root` directories, seen by an audit hook
  (which runs *before* the call): `open` for writing (also `os.open`, so the create in
  `tempfile.mkstemp`), `tempfile.mkstemp`, `os.rename` (also `os.replace`), `os.remove`,
  `os.rmdir`, `os.mkdir`, `os.truncate`, `os.chmod`, `shutil.rmtree`, `shutil.move`,
  `shutil.copyfile`. Writes and fsyncs to an open file are not steps: the step after
  them (typically the `os.rename` of an atomic write) sees the file complete. Entries
  that `shutil.rmtree` removes by a relative name (dir_fd) are not steps either; the
  `shutil.rmtree` before and the final `os.rmdir` after them are.

At step N the process kills itself with SIGKILL (no cleanup, no `finally`, no flush), as a
power cut or the OOM killer would. N = 0 never kills: the run only records its steps.
Each step is appended to the trace file (unbuffered) as
`index<TAB>kind<TAB>monotonic time<TAB>detail` *before* the kill, so the test knows which
step ended the run.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
FS_EVENTS = frozenset(
    {
        "open",
        "tempfile.mkstemp",
        "os.rename",
        "os.remove",
        "os.rmdir",
        "os.mkdir",
        "os.truncate",
        "os.chmod",
        "shutil.rmtree",
        "shutil.move",
        "shutil.copyfile",
    }
)


class Crasher:
    def __init__(self, target: int, trace: str | None, roots: list[str]) -> None:
        self.target = target
        self.count = 0
        self.roots = tuple(os.path.realpath(r) + os.sep for r in roots)
        self.trace_fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND) if trace else -1
        self.busy = False

    def step(self, kind: str, detail: str) -> None:
        self.count += 1
        if self.trace_fd >= 0:
            line = (
                f"{self.count}\t{kind}\t{time.monotonic():.3f}\t{' '.join(detail.split())[:300]}\n"
            )
            os.write(self.trace_fd, line.encode("utf-8", "replace"))
        if self.count == self.target:
            os.kill(os.getpid(), signal.SIGKILL)

    def _watched(self, path: Any) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(path)
        real = os.path.realpath(os.path.abspath(text))
        for root in self.roots:
            if (real + os.sep).startswith(root):
                return real
        return None

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in FS_EVENTS or self.busy:
            return
        self.busy = True  # realpath and friends may audit too
        try:
            if event == "open":
                path, mode, flags = args
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & WRITE_FLAGS
                )
                if not writing:
                    return
            else:
                path = args[0] if args else None
            where = self._watched(path)
            if where is None and event in {"os.rename", "shutil.move"} and len(args) > 1:
                where = self._watched(args[1])
            if where is not None:
                self.step(f"fs:{event}", where)
        finally:
            self.busy = False


def install(crasher: Crasher) -> None:
    from sqlalchemy import event  # noqa: PLC0415 - after the hook, like the app would
    from sqlalchemy.engine import Engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        crasher.step("db:execute", statement)

    def before_commit(_conn: Any) -> None:
        crasher.step("db:commit", "")

    def after_commit(_session: Any) -> None:
        crasher.step("db:committed", "")

    event.listen(Engine, "before_cursor_execute", before_execute)
    event.listen(Engine, "commit", before_commit)
    event.listen(Session, "after_commit", after_commit)
    sys.addaudithook(crasher.audit)


def main(argv: list[str]) -> None:
    if "--" not in argv:
        raise SystemExit(__doc__)
    split = argv.index("--")
    own, cli_args = argv[:split], argv[split + 1 :]
    target = int(own[0])
    trace: str | None = None
    roots: list[str] = []
    rest = own[1:]
    while rest:
        option, value, *rest = rest
        if option == "--trace":
            trace = value
        elif option == "--root":
            roots.append(value)
        else:
            raise SystemExit(f"unknown option {option}")
    crasher = Crasher(target, trace, roots)
    install(crasher)
    from cssec.cli import app  # noqa: PLC0415

    app(args=cli_args, prog_name="cssec")


if __name__ == "__main__":
    main(sys.argv[1:])
