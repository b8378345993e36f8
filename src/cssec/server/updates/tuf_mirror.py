"""The C/S Sec. server as a TUF mirror for its clients: what it verified, byte for byte.

The server's own TUF client (`tuf_client`) keeps, in `<data_dir>/tuf/`, the metadata
python-tuf accepted (`root_history/<N>.root.json`, `timestamp.json`, `snapshot.json`,
`targets.json`: the exact bytes the vendor signed). This module answers a client's TUF
requests from there and from nothing else:

- `<N>.root.json`            root_history/<N>.root.json
- `timestamp.json`           timestamp.json
- `<V>.snapshot.json`, `<V>.targets.json`   snapshot.json / targets.json when V is the
                             version held (consistent snapshots: any other V is not held)
- `root-endorsement`         the vendor key's endorsement of a root the server holds (saved
                             when the server verified it), a client's first step into TUF
- `targets/<dir>/<sha256>.<name>`   the manifest target the server verified (kept here by
                             `keep_manifest_target`), or a component file of a manifest it
                             switched to (`ComponentStore`, checked again against its hash)

A server can so withhold an update from its clients (serve nothing newer) but never forge,
roll back or freeze one: the clients check every byte against the vendor's root.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from cssec.core.signing import write_secret_file

TUF_DIR = "tuf"
ENDORSEMENT_FILE = "root-endorsement.json"
MIRROR_DIR = "mirror"
KEEP_MANIFESTS = 6
"""Manifest targets kept for clients (the newest by write time)."""

_NUMBERED = re.compile(r"^([1-9][0-9]{0,8})\.(root|snapshot|targets)\.json$")
_TARGET = re.compile(r"^([a-z_]{1,40})/([0-9a-f]{64})\.([A-Za-z0-9_.-]{1,80})$")


def _dir(data_root: Path) -> Path:
    return data_root / TUF_DIR


def save_endorsement(data_root: Path, raw: bytes) -> None:
    """Keep the vendor's root endorsement the server verified (the clients' bootstrap)."""
    directory = _dir(data_root)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_secret_file(directory / ENDORSEMENT_FILE, raw)


def has_endorsement(data_root: Path) -> bool:
    return (_dir(data_root) / ENDORSEMENT_FILE).is_file()


def keep_manifest_target(data_root: Path, data: bytes) -> None:
    """Keep a manifest target python-tuf verified (length and hash), by its SHA-256; only
    the newest few stay."""
    directory = _dir(data_root) / MIRROR_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / hashlib.sha256(data).hexdigest()
    if not path.exists():
        write_secret_file(path, data)
    else:
        path.touch()
    kept = sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP_MANIFESTS:]:
        old.unlink(missing_ok=True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _version(data: bytes) -> int | None:
    try:
        version = json.loads(data)["signed"]["version"]
    except (ValueError, KeyError, TypeError):
        return None
    return version if isinstance(version, int) else None


def metadata(data_root: Path, name: str) -> bytes | None:
    """The metadata file a client asks for by `name`, as this server holds it; None when it
    does not hold it (404)."""
    directory = _dir(data_root)
    if name == "timestamp.json":
        return _read(directory / "timestamp.json")
    if name == "root-endorsement":
        return endorsement(data_root)
    match = _NUMBERED.match(name)
    if match is None:
        return None
    number, role = int(match.group(1)), match.group(2)
    if role == "root":
        return _read(directory / "root_history" / f"{number}.root.json")
    data = _read(directory / f"{role}.json")
    return data if data is not None and _version(data) == number else None


def endorsement(data_root: Path) -> bytes | None:
    """The saved endorsement, only while the root it names is held."""
    raw = _read(_dir(data_root) / ENDORSEMENT_FILE)
    try:
        version = int(json.loads(raw or b"")["version"])
    except (ValueError, KeyError, TypeError):
        return None
    held = _dir(data_root) / "root_history" / f"{version}.root.json"
    return raw if held.is_file() else None


def parse_target(path: str) -> tuple[str, str] | None:
    """(`dir`, sha256) of `targets/<dir>/<sha256>.<name>`'s tail, or None."""
    match = _TARGET.match(path)
    return (match.group(1), match.group(2)) if match else None


def manifest_target(data_root: Path, sha256: str) -> bytes | None:
    data = _read(_dir(data_root) / MIRROR_DIR / sha256)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


def holds_tuf(data_root: Path) -> bool:
    return (_dir(data_root) / "timestamp.json").is_file()


__all__ = [
    "ENDORSEMENT_FILE",
    "endorsement",
    "has_endorsement",
    "holds_tuf",
    "keep_manifest_target",
    "manifest_target",
    "metadata",
    "parse_target",
    "save_endorsement",
]
