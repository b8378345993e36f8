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


class BlobStore:
    """Content-addressed files under one directory (created 0700 on first write)."""

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
            return sha  # already stored intact
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_secret_file(path, data)
        return sha

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


Stamp = tuple[int, int] | None
"""What `ActiveUpdateStore.published_stamp` saw: the marker's (inode, mtime_ns), or None."""


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
            if not 0 <= age < self.recheck_seconds:
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

    @property
    def marker(self) -> Path:
        """Rewritten after every publish commits (`mark_published`); its stat tells the
        manifest cache of every process on this host that the serial moved."""
        return self.blobs.root / PUBLISHED_MARKER

    def published_stamp(self) -> Stamp:
        try:
            info = os.stat(self.marker)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def mark_published(self, serial: int) -> None:
        self.blobs.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_secret_file(self.marker, f"{serial}\n".encode())

    @classmethod
    def in_data_dir(
        cls, data_dir: Path, *, entitlement_ttl: float = DEFAULT_ENTITLEMENT_TTL
    ) -> ActiveUpdateStore:
        return cls(
            BlobStore(Path(data_dir) / "activeupdate"),
            entitlements=TTLCache(ttl_seconds=entitlement_ttl),
        )
