"""Where ActiveUpdate's files live, and the in-memory cache of the signed manifest.

Choice: files on disk plus DB rows. Each published file is stored once under
``<data_dir>/activeupdate/<sha256>`` (content-addressed, immutable), written atomically
(temporary file, fsync, rename, directory fsync); the rows in ``component_versions`` say
which file is which version. Serving is then a plain file send, the database stays small,
and a second vendor worker shares the files exactly as it already shares the keys: through
the data directory. A file without a row is never served (a crash between writing the
file and committing the row leaves an unreferenced file, harmless and replaced by the
same bytes on the next publish).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from cssec.core.components import sha256_hex
from cssec.core.signing import write_secret_file

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
DEFAULT_ENTITLEMENT_TTL = 60.0
DEFAULT_ENTITLEMENT_ENTRIES = 100_000
PUBLISHED_MARKER = "published"  # not a SHA-256: never served as a file

T = TypeVar("T")


FILE_MODE = 0o640
DIR_MODE = 0o750


class BlobStore:
    """Content-addressed files under one directory (created 0750 on first write, files
    0640). Not secrets (every licensed server downloads them): readable by the service's
    group, so that nginx in that group can send them after the license check
    (X-Accel-Redirect, deploy/nginx); the data directory around them stays closed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError("not a lower-case hex SHA-256")
        return self.root / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store `data` (no-op when already there) and return its SHA-256."""
        sha = sha256_hex(data)
        path = self.path_for(sha)
        if path.is_file() and sha256_hex(path.read_bytes()) == sha:
            if path.stat().st_mode & 0o777 != FILE_MODE:
                path.chmod(FILE_MODE)  # stored by a version that wrote them 0600
            return sha  # already stored intact
        self.root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        write_secret_file(path, data)  # atomic; written 0600, then opened to the group
        path.chmod(FILE_MODE)
        return sha

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


Stamp = tuple[int, int] | None
"""What `ActiveUpdateStore.published_stamp` saw: the marker's (inode, mtime_ns), or None;
while a LISTEN connection is up (PostgreSQL), (LISTENING, the notifications' generation)."""
LISTENING = -1  # never an inode


@dataclass
class FeedSignal:
    """Publishes seen through PostgreSQL's LISTEN/NOTIFY (`cssec.vendor_service.feedwatch`):
    `generation` grows with every notification and every (re)connection; `connected` says
    whether it can be trusted now. Written by the worker's event loop only."""

    generation: int = 0
    connected: bool = False


@dataclass
class ManifestCache:
    """The last signed manifest envelope, keyed by (serial, signing kid).

    Every request through `services.current_manifest` reads the serial from the database
    (one indexed aggregate), so a publish by any process (the CLI, another worker) is seen
    at once there; a key rotation changes the kid. `fresh` lets the hot manifest route
    (`cssec.vendor_service.api.hot`) skip that read while the serial was confirmed less than
    `recheck_seconds` ago AND the publish marker (`ActiveUpdateStore.published_stamp`) is
    unchanged since: a publish on this host (which writes the marker after its commit) is
    seen at once, one by a vendor node on another host sharing the database within that
    time (a second by default; servers poll hourly). Thread-safe.
    """

    recheck_seconds: float = 1.0
    listen_recheck_seconds: float = 60.0
    """The re-read interval while publishes arrive as notifications (a safety net)."""
    _key: tuple[int, str] | None = None
    _envelope: dict[str, Any] | None = None
    _checked: datetime | None = None
    _stamp: Stamp = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: tuple[int, str], now: datetime, stamp: Stamp) -> dict[str, Any] | None:
        """The envelope if it is the one for `key` (a serial read from the database at
        `now`, by the service's clock, after the marker showed `stamp`)."""
        with self._lock:
            if self._key != key:
                return None
            self._checked, self._stamp = now, stamp
            return self._envelope

    def put(
        self, key: tuple[int, str], envelope: dict[str, Any], now: datetime, stamp: Stamp
    ) -> None:
        with self._lock:
            self._key, self._envelope = key, envelope
            self._checked, self._stamp = now, stamp

    def fresh(self, kid: str, now: datetime, stamp: Stamp) -> dict[str, Any] | None:
        """The envelope signed with `kid` if its serial was confirmed less than
        `recheck_seconds` before `now` (a clock that went back makes it stale) and the
        marker still shows `stamp`; else None (ask `current_manifest`)."""
        with self._lock:
            if self._key is None or self._key[1] != kid or self._checked is None:
                return None
            if stamp != self._stamp:
                return None
            age = (now - self._checked).total_seconds()
            listening = stamp is not None and stamp[0] == LISTENING
            limit = self.listen_recheck_seconds if listening else self.recheck_seconds
            if not 0 <= age < limit:
                return None
            return self._envelope

    def clear(self) -> None:
        with self._lock:
            self._key, self._envelope, self._checked, self._stamp = None, None, None, None


@dataclass
class TTLCache(Generic[T]):
    """In-process values by key, each trusted for `ttl_seconds` after it was read (by the
    clock the caller passes: a clock that went back makes an entry stale). Bounded: the
    oldest entry goes when `max_entries` is reached. `ttl_seconds <= 0` caches nothing.
    Thread-safe: routes run in a thread pool. Each worker process has its own.
    """

    ttl_seconds: float = DEFAULT_ENTITLEMENT_TTL
    max_entries: int = DEFAULT_ENTITLEMENT_ENTRIES
    _entries: dict[str, tuple[T, datetime]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: str, now: datetime) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, at = entry
        age = (now - at).total_seconds()
        if 0 <= age < self.ttl_seconds:
            return value
        self.discard(key)
        return None

    def put(self, key: str, value: T, now: datetime) -> None:
        if self.ttl_seconds <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest insertion
            self._entries[key] = (value, now)

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class ActiveUpdateStore:
    """What ActiveUpdate services reach through ``session.info["activeupdate"]``.

    `entitlements`: the database facts of activation codes that passed the entitlement
    check (`services.authorize_download`), by canonical code text, for a short TTL.
    """

    blobs: BlobStore
    cache: ManifestCache = field(default_factory=ManifestCache)
    entitlements: TTLCache[Any] = field(default_factory=TTLCache)
    feed: FeedSignal = field(default_factory=FeedSignal)

    @property
    def marker(self) -> Path:
        """Rewritten after every publish commits (`mark_published`); its stat tells the
        manifest cache of every process on this host that the serial moved."""
        return self.blobs.root / PUBLISHED_MARKER

    def published_stamp(self) -> Stamp:
        """The notifications' generation while LISTENing (every node sees a publish at
        once), else the marker file's stat (every process on this host sees it at once)."""
        feed = self.feed
        if feed.connected:
            return (LISTENING, feed.generation)
        try:
            info = os.stat(self.marker)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def mark_published(self, serial: int) -> None:
        self.blobs.root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        write_secret_file(self.marker, f"{serial}\n".encode())

    @classmethod
    def in_data_dir(
        cls,
        data_dir: Path,
        *,
        entitlement_ttl: float = DEFAULT_ENTITLEMENT_TTL,
        recheck_seconds: float = 1.0,
        listen_recheck_seconds: float = 60.0,
    ) -> ActiveUpdateStore:
        return cls(
            BlobStore(Path(data_dir) / "activeupdate"),
            cache=ManifestCache(
                recheck_seconds=recheck_seconds, listen_recheck_seconds=listen_recheck_seconds
            ),
            entitlements=TTLCache(ttl_seconds=entitlement_ttl),
        )
