"""Delta targets for the pattern files (`core.delta`), published beside the full files.

When the targets metadata is signed (`tuf_targets.targets_of`), each pattern component at
version N gets a delta from each of its `DEPTH` previous versions, as the TUF target
`deltas/<component>/<from>-<N>` with custom `{"component", "from_version", "to_version",
"from_sha256", "to_sha256"}`. TUF signs its length and hash like any target's; a server
holding `<from>` fetches it instead of the whole file, rebuilds the file, and checks the
result against the full target's length and hash before use (`server.updates.deltas`).

Deltas are blobs like the component files (`<data_dir>/activeupdate/<sha256>`), made once
per pair and remembered in `<data_dir>/activeupdate/deltas/<from>-<to>` (the delta's
SHA-256, 0600 in a 0750 directory as activeupdate/ allows: `runtime.secure_vendor_dir`), so
re-signing the targets does not encode again. A delta not much smaller than
the file (`MAX_RATIO`) is not published: the full file is as good.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session
from tuf.api.metadata import TargetFile

from cssec.core.delta import make_delta
from cssec.core.policy import Component
from cssec.core.signing import write_secret_file
from cssec.vendor_service.activeupdate.models import ComponentVersionRow
from cssec.vendor_service.activeupdate.services import store_of
from cssec.vendor_service.activeupdate.store import DIR_MODE, SHA256_HEX, BlobStore
from cssec.web.filemodes import make_private_dirs

log = logging.getLogger(__name__)

PATTERNS = (Component.VIRUS_PATTERN, Component.SPYWARE_PATTERN)
DEPTH = 3
MAX_RATIO = 0.5
DELTA_DIR = "deltas"
INDEX_DIR = "deltas"


def delta_path(component: Component, from_version: int, to_version: int) -> str:
    return f"{DELTA_DIR}/{component.value}/{from_version}-{to_version}"


def _delta_sha(blobs: BlobStore, old: str, new: str) -> str | None:
    """The stored delta old → new (made now if it is not yet); None when it cannot be."""
    index = blobs.root / INDEX_DIR / f"{old}-{new}"
    try:
        known = index.read_text(encoding="ascii").strip()
        if SHA256_HEX.fullmatch(known) and blobs.has(known):
            return known
    except OSError:
        pass
    try:
        delta = make_delta(blobs.read(old), blobs.read(new))
    except OSError as exc:
        log.warning("no delta %s -> %s: %s", old, new, exc)
        return None
    sha = blobs.put(delta)
    make_private_dirs(index.parent, mode=DIR_MODE)  # activeupdate/'s group-readable modes
    write_secret_file(index, sha.encode("ascii"))  # atomic, 0600 (nginx never sends it)
    return sha


def delta_targets(
    session: Session, current: dict[str, ComponentVersionRow]
) -> dict[str, TargetFile]:
    """The delta targets for the pattern components' current versions (`current`)."""
    blobs = store_of(session).blobs
    targets: dict[str, TargetFile] = {}
    for component in PATTERNS:
        row = current.get(component.value)
        if row is None or row.version <= 1:
            continue
        older = session.scalars(
            select(ComponentVersionRow).where(
                ComponentVersionRow.component == component.value,
                ComponentVersionRow.version < row.version,
                ComponentVersionRow.version >= row.version - DEPTH,
            )
        )
        for old in older:
            if old.sha256 == row.sha256:
                continue
            sha = _delta_sha(blobs, old.sha256, row.sha256)
            if sha is None:
                continue
            size = blobs.path_for(sha).stat().st_size
            if size > row.size * MAX_RATIO:
                continue
            path = delta_path(component, old.version, row.version)
            custom = {
                "component": component.value,
                "from_version": old.version,
                "to_version": row.version,
                "from_sha256": old.sha256,
                "to_sha256": row.sha256,
            }
            targets[path] = TargetFile(size, {"sha256": sha}, path, {"custom": custom})
    return targets
