"""Delta updates of the pattern files: a server holding version N of a pattern fetches the
published delta N → M (`deltas/<component>/<N>-<M>`, a TUF target: its length and hash
checked by python-tuf) instead of the whole file, rebuilds version M from the file it
holds (`core.delta`), and uses the result only when it has the full target's length and
SHA-256. Any problem (no delta published, a refused or damaged delta, a held file that is
not intact) falls back to the whole file, which is then checked as always: a delta can
save bytes, never change what is installed. The vendor side is
`vendor_service.activeupdate.deltas`.

For the clients (`tuf_mirror`, served by `agent.tuf`), who follow their server and so hold
N too: the delta the server used is kept; when it took the whole file (its N not intact),
it still fetches the delta N → M for them (`keep_for_clients`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cssec.core.components import ComponentVersion
from cssec.core.delta import DeltaError, apply_delta, delta_hashes
from cssec.core.errors import CssecError
from cssec.core.policy import Component
from cssec.server.updates.store import ComponentStore
from cssec.server.updates.tuf_mirror import delta_target, keep_delta_target

if TYPE_CHECKING:
    from cssec.server.updates.tuf_client import TufSession

log = logging.getLogger(__name__)

DELTA_DIR = "deltas"
PATTERNS = (Component.VIRUS_PATTERN, Component.SPYWARE_PATTERN)


def delta_path(held: ComponentVersion, wanted: ComponentVersion) -> str:
    return f"{DELTA_DIR}/{wanted.component.value}/{held.version}-{wanted.version}"


def _source(
    tuf: TufSession, store: ComponentStore, held: ComponentVersion, wanted: ComponentVersion
) -> bytes | None:
    """The held file, when a delta from it to `wanted` is published (and it is intact)."""
    if held.version >= wanted.version or held.component != wanted.component:
        return None
    info = tuf.updater.get_targetinfo(delta_path(held, wanted))
    custom = info.custom if info is not None and isinstance(info.custom, dict) else {}
    if (custom.get("from_sha256"), custom.get("to_sha256")) != (held.sha256, wanted.sha256):
        return None
    return store.read(held)


async def fetch_by_delta(
    tuf: TufSession,
    store: ComponentStore,
    held: ComponentVersion | None,
    wanted: ComponentVersion,
) -> bytes | None:
    """Version `wanted` rebuilt from `held` and its delta, verified; None to fetch the
    whole file instead."""
    if held is None:
        return None
    source = await asyncio.to_thread(_source, tuf, store, held, wanted)
    if source is None:
        return None
    path = delta_path(held, wanted)
    try:
        _info, delta = await tuf._target(path)
        data = await asyncio.to_thread(apply_delta, delta, source, max_target=wanted.size)
    except (CssecError, DeltaError) as exc:
        log.warning("delta %s not used, fetching the whole file: %s", path, exc)
        return None
    if len(data) != wanted.size or hashlib.sha256(data).hexdigest() != wanted.sha256:
        log.warning("delta %s does not rebuild the published file", path)
        return None
    # Kept for the clients still at `held`: the mirror serves it (`tuf_mirror`).
    await asyncio.to_thread(keep_delta_target, store.root.parent, delta)
    return data


async def keep_for_clients(
    tuf: TufSession, data_root: Path, held: ComponentVersion, wanted: ComponentVersion
) -> None:
    """The published delta `held` → `wanted`, fetched through TUF (length and hash) and
    kept for the clients still at `held` (`tuf_mirror`) when this server took the whole
    file itself (its own copy was not intact). Best effort: a failure only means those
    clients take the whole file too."""
    if held.component != wanted.component or held.version >= wanted.version:
        return
    path = delta_path(held, wanted)
    try:
        info = await tuf._run(functools.partial(tuf.updater.get_targetinfo, path))
        custom = info.custom if info is not None and isinstance(info.custom, dict) else {}
        if info is None or (custom.get("from_sha256"), custom.get("to_sha256")) != (
            held.sha256,
            wanted.sha256,
        ):
            return
        if delta_target(data_root, str(info.hashes.get("sha256"))) is not None:
            return
        _info, delta = await tuf._target(path)
        if delta_hashes(delta) != (held.sha256, wanted.sha256):
            return
    except (CssecError, DeltaError) as exc:
        log.warning("delta %s not kept for the clients: %s", path, exc)
        return
    await asyncio.to_thread(keep_delta_target, data_root, delta)
