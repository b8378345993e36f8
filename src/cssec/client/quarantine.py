"""Quarantine: infected files moved aside, hashed, and restorable.

    quarantine/<id>/file          the file's bytes, mode 0600
    quarantine/<id>/record.json   {"id", "original_path", "sha256", "threat", "at", "mode",
                                   "size"}, mode 0600

An id is the UTC time of quarantine and a random suffix (`20260501T120000Z-1a2b3c4d`), so a
listing sorts oldest first and an id never names a path outside the quarantine folder.
The file is written (and synced) before the record, and the record before the original is
removed: an interrupted quarantine leaves the original in place and an entry without a
record, which the listing ignores. Restoring checks the SHA-256 first and never overwrites.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.client.errors import (
    QuarantineDamaged,
    QuarantineNotFound,
    RestoreFailed,
    RestoreTargetExists,
)
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import format_timestamp, sha256_hex
from cssec.core.signing import write_secret_file

DATA_FILE = "file"
RECORD_FILE = "record.json"
ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


@dataclass(frozen=True)
class QuarantineRecord:
    id: str
    original_path: str
    sha256: str
    threat: str
    at: datetime
    mode: int
    """The original file's permission bits, given back on restore."""
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "original_path": self.original_path,
            "sha256": self.sha256,
            "threat": self.threat,
            "at": format_timestamp(self.at),
            "mode": self.mode,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, raw: object) -> QuarantineRecord | None:
        if not isinstance(raw, dict):
            return None
        try:
            record = cls(
                id=str(raw["id"]),
                original_path=str(raw["original_path"]),
                sha256=str(raw["sha256"]),
                threat=str(raw["threat"]),
                at=datetime.fromisoformat(str(raw["at"])),
                mode=int(raw["mode"]),
                size=int(raw["size"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return record if ID_PATTERN.match(record.id) and record.at.tzinfo else None


def _entry(state: ClientState, quarantine_id: str) -> Path:
    if not ID_PATTERN.match(quarantine_id):
        raise QuarantineNotFound(id=quarantine_id, dir=str(state.root))
    return state.quarantine_dir / quarantine_id


def quarantine_file(
    state: ClientState,
    *,
    original_path: str,
    data: bytes,
    threat: str,
    mode: int,
    clock: Clock,
) -> QuarantineRecord:
    """Keep `data` in a new quarantine entry; the caller then removes the original."""
    state.quarantine_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = clock.now()
    while True:
        quarantine_id = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        entry = state.quarantine_dir / quarantine_id
        try:
            entry.mkdir(mode=0o700)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    record = QuarantineRecord(
        id=quarantine_id,
        original_path=original_path,
        sha256=sha256_hex(data),
        threat=threat,
        at=now,
        mode=mode & 0o7777,
        size=len(data),
    )
    try:
        write_secret_file(entry / DATA_FILE, data)
        body = json.dumps(record.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
        write_secret_file(entry / RECORD_FILE, (body + "\n").encode("utf-8"))
    except OSError:
        shutil.rmtree(entry, ignore_errors=True)
        raise
    return record


def discard(state: ClientState, quarantine_id: str) -> None:
    """Undo a quarantine whose original could not be removed."""
    shutil.rmtree(_entry(state, quarantine_id), ignore_errors=True)


def load_record(state: ClientState, quarantine_id: str) -> QuarantineRecord:
    entry = _entry(state, quarantine_id)
    try:
        raw = json.loads((entry / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raw = None
    record = QuarantineRecord.from_dict(raw)
    if record is None or record.id != quarantine_id:
        raise QuarantineNotFound(id=quarantine_id, dir=str(state.root))
    return record


def list_quarantine(state: ClientState) -> list[QuarantineRecord]:
    """Every complete entry, oldest first; incomplete or foreign entries are left out."""
    if not state.quarantine_dir.is_dir():
        return []
    records = []
    for entry in sorted(state.quarantine_dir.iterdir()):
        if not ID_PATTERN.match(entry.name) or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            records.append(load_record(state, entry.name))
        except QuarantineNotFound:
            continue
    return records


def restore(state: ClientState, quarantine_id: str) -> QuarantineRecord:
    """Put the file back where it was; refuses to overwrite and to restore altered bytes."""
    record = load_record(state, quarantine_id)
    entry = _entry(state, quarantine_id)
    try:
        data = (entry / DATA_FILE).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise QuarantineDamaged(id=quarantine_id, reason=reason, dir=str(entry)) from exc
    if len(data) != record.size or sha256_hex(data) != record.sha256:
        raise QuarantineDamaged(id=quarantine_id, reason="sha256 mismatch", dir=str(entry))
    target = record.original_path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError as exc:
        raise RestoreTargetExists(id=quarantine_id, path=target) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RestoreFailed(id=quarantine_id, path=target, reason=reason) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), record.mode & 0o777)
    except OSError as exc:
        Path(target).unlink(missing_ok=True)
        reason = exc.strerror or type(exc).__name__
        raise RestoreFailed(id=quarantine_id, path=target, reason=reason) from exc
    shutil.rmtree(entry, ignore_errors=True)
    return record
