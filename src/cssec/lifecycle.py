"""Stopping what a command started: SIGTERM is handled as Ctrl-C (SIGINT) is.

A process that starts children (`cssec demo`) stops them in a `finally:` block. Python
turns SIGINT into KeyboardInterrupt, which runs that block, but dies at once on SIGTERM
(what systemd, Docker and `kill` send), leaving its children running as orphans.
`terminate_as_interrupt()` makes SIGTERM raise KeyboardInterrupt too, so both signals take
the same way out. `serve` needs none of this: uvicorn already shuts down gracefully on
either (`cssec.web.serving`, `STOP_TIMEOUT`).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["terminate_as_interrupt"]
