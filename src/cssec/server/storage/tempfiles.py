"""Temporary files of atomic writes in the data directory, and sweeping the ones a crash left.

An atomic write creates a sibling temporary file, fills and fsyncs it, then renames it
into place. A process killed before the rename leaves the temporary file behind, under a
name nothing reads but taking disk space. Each temporary name carries the writing
process's id (`<base><pid>-<random><suffix>`), so a sweep removes only the files whose
writer is gone: `serve` and the CLI may write the same directory at the same time, and a
live writer's file is never touched. A file of the older form without a pid counts as
stale once it is an hour old (no write takes that long).
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
import time
from pathlib import Path

LEGACY_STALE_AFTER_SECONDS = 3600.0


def create_temp(directory: Path, base: str, suffix: str = "") -> tuple[int, Path]:
    """mkstemp (0600, open fd) named for this process: `<base><pid>-<random><suffix>`."""
    fd, name = tempfile.mkstemp(prefix=f"{base}{os.getpid()}-", suffix=suffix, dir=directory)
    return fd, Path(name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's live process
        return True
    return True


def is_stale(path: Path, base: str, suffix: str = "") -> bool:
    """Whether `path` is a temporary file of `base` whose writer can no longer rename it."""
    name = path.name
    if not name.startswith(base) or not name.endswith(suffix):
        return False
    match = re.match(r"(\d+)-", name[len(base) :])
    if match is not None:
        return not _alive(int(match.group(1)))
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False
    return age > LEGACY_STALE_AFTER_SECONDS


def sweep_stale(directory: Path, base: str, suffix: str = "") -> list[Path]:
    """Remove the stale temporary files of `base` directly in `directory` (best effort)."""
    removed: list[Path] = []
    try:
        candidates = [p for p in directory.glob(f"{glob.escape(base)}*") if p.is_file()]
    except OSError:
        return removed
    for path in candidates:
        if path.is_symlink() or not is_stale(path, base, suffix):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue  # a busy or protected file stays for the next sweep
        removed.append(path)
    return removed
