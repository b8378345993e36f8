"""Component files on the server's disk: data_dir/components/<name>/<version>/<file>.

Files are written atomically (a temporary file in the same directory, fsync, rename), so
a crash or a full disk never leaves a half file under a real name (and the temporary
file a killed writer left is swept by the next update: `sweep`); a file counts as
present only when its size and SHA-256 match the manifest again. Before anything is
stored, each file must work as its component: patterns compile with YARA (includes off),
the template and the engine settings parse with `core.components`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from cssec.core.components import (
    ComponentVersion,
    parse_cleanup_template,
    parse_scan_engine,
    verify_file,
)
from cssec.core.policy import Component
from cssec.server.storage.tempfiles import create_temp, sweep_stale
from cssec.web.filemodes import make_private_dirs

COMPONENTS_DIR = "components"
TEMP_BASE = ".incoming-"


def validate_component(component: Component, data: bytes) -> str | None:
    """Why `data` cannot serve as `component`, or None when it can (the clients' checks)."""
    if component is Component.SCAN_ENGINE:
        engine = parse_scan_engine(data)
        return None if engine.ok else f"{engine.error} {engine.detail}".strip()
    if component is Component.DAMAGE_CLEANUP_TEMPLATE:
        template = parse_cleanup_template(data)
        return None if template.ok else f"{template.error} {template.detail}".strip()
    import yara  # noqa: PLC0415 - only an update compiles a pattern; the idle server does without

    try:
        rules = yara.compile(source=data.decode("utf-8"), includes=False)
    except UnicodeDecodeError:
        return "pattern is not UTF-8"
    except yara.Error as exc:
        return f"pattern does not compile: {exc}"
    if not any(True for _rule in rules):
        return "pattern defines no rule"
    return None


class ComponentStore:
    def __init__(self, data_root: Path) -> None:
        self.root = data_root / COMPONENTS_DIR

    def path_for(self, version: ComponentVersion) -> Path:
        return self.root / version.component.value / str(version.version) / version.filename

    def read(self, version: ComponentVersion) -> bytes | None:
        """The file's bytes when present and exactly as the manifest names it."""
        try:
            data = self.path_for(version).read_bytes()
        except OSError:
            return None
        return data if verify_file(data, version) else None

    def present(self, version: ComponentVersion) -> bool:
        return self.read(version) is not None

    def write(self, version: ComponentVersion, data: bytes) -> None:
        """Atomically store a verified file; OSError (ENOSPC, EACCES …) leaves nothing."""
        target = self.path_for(version)
        make_private_dirs(target.parent)
        fd, tmp = create_temp(target.parent, TEMP_BASE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def sweep(self) -> list[Path]:
        """Remove the temporary files that killed writers left (never a live writer's, never
        a real component file): components/<name>/<version>/.incoming-<dead pid>-*."""
        removed: list[Path] = []
        for version_dir in _subdirs(self.root, depth=2):
            removed.extend(sweep_stale(version_dir, TEMP_BASE))
        return removed

    def prune(self, keep: Iterable[ComponentVersion]) -> None:
        """Remove every stored version not in `keep`, and the stale temporary files in the
        kept ones (best effort: a busy file stays)."""
        wanted = {(v.component.value, str(v.version)) for v in keep}
        if not self.root.is_dir():
            return
        self.sweep()
        for component_dir in self.root.iterdir():
            if not component_dir.is_dir():
                continue
            for version_dir in component_dir.iterdir():
                if (component_dir.name, version_dir.name) not in wanted:
                    shutil.rmtree(version_dir, ignore_errors=True)


def _subdirs(root: Path, *, depth: int) -> list[Path]:
    """The real (not symlinked) directories `depth` levels below `root` (best effort)."""
    level = [root]
    for _ in range(depth):
        found: list[Path] = []
        for directory in level:
            try:
                found.extend(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
        level = found
    return level
