"""A fork server for crashpoint runs: imports the cssec CLI once, then forks one child per
job (test code). Importing cssec takes seconds on this box; a fork takes milliseconds, and
each child is still its own process that really dies of SIGKILL.

Protocol on stdin/stdout, one JSON object per line:
  job   {"n": N, "trace": path|null, "roots": [...], "args": [...], "env": {...},
         "stdout": path, "stderr": path}
  reply {"returncode": code}   (negative signal number when killed, as subprocess does)
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from typing import Any

from tests.faults.crashpoint import Crasher, install

import cssec.cli  # noqa: F401 - the expensive import, done once before forking

# What the commands import lazily on their first run (found by diffing sys.modules): done
# here once instead of in every child. A name that moved away is simply skipped.
PREWARM = (
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "anyio.to_thread",
    "certifi",
    "h11",
    "httpcore",
    "sqlite3",
    "sqlalchemy.dialects.sqlite",
    "cssec.server.models",
)
for _name in PREWARM:
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)


def _child(job: dict[str, Any]) -> None:
    code = 70
    try:
        out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        os.environ.clear()
        os.environ.update(job["env"])
        install(Crasher(int(job["n"]), job.get("trace"), list(job.get("roots", []))))
        from cssec.cli import app  # noqa: PLC0415

        try:
            app(args=list(job["args"]), prog_name="cssec")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback  # noqa: PLC0415

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(job)
        _pid, status = os.waitpid(pid, 0)
        returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sys.stdout.write(json.dumps({"returncode": returncode}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
