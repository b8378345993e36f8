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
- `targets/deltas/<component>/<sha256>.<N>-<M>`   a pattern delta the server fetched
                             through TUF and rebuilt version M from (kept by
                             `keep_delta_target`), served while M is a version it distributes

A server can so withhold an update from its clients (serve nothing newer) but never forge,
roll back or freeze one: the clients check every byte against the vendor's root.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

from cssec.core.signing import write_secret_file
from cssec.web.filemodes import make_private_dirs

TUF_DIR = "tuf"
ENDORSEMENT_FILE = "root-endorsement.json"
MIRROR_DIR = "mirror"
DELTAS_DIR = "deltas"
KEEP_MANIFESTS = 6
"""Manifest targets kept for clients (the newest by write time)."""
KEEP_DELTAS = 12
"""Delta targets kept for clients (the newest by write time)."""

_NUMBERED = re.compile(r"^([1-9][0-9]{0,8})\.(root|snapshot|targets)\.json$")
_TARGET = re.compile(r"^([a-z_]{1,40})/([0-9a-f]{64})\.([A-Za-z0-9_.-]{1,80})$")
_DELTA = re.compile(r"^deltas/([a-z_]{1,40})/([0-9a-f]{64})\.([1-9][0-9]{0,8})-([1-9][0-9]{0,8})$")


def _dir(data_root: Path) -> Path:
    return data_root / TUF_DIR


def save_endorsement(data_root: Path, raw: bytes) -> None:
    """Keep the vendor's root endorsement the server verified (the clients' bootstrap)."""
    directory = _dir(data_root)
    make_private_dirs(directory)
    write_secret_file(directory / ENDORSEMENT_FILE, raw)


def has_endorsement(data_root: Path) -> bool:
    return (_dir(data_root) / ENDORSEMENT_FILE).is_file()


def _keep(directory: Path, data: bytes, keep: int) -> None:
    make_private_dirs(directory)
    path = directory / hashlib.sha256(data).hexdigest()
    if not path.exists():
        write_secret_file(path, data)
    else:
        path.touch()
    kept = sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[keep:]:
        old.unlink(missing_ok=True)


def keep_manifest_target(data_root: Path, data: bytes) -> None:
    """Keep a manifest target python-tuf verified (length and hash), by its SHA-256; only
    the newest few stay."""
    _keep(_dir(data_root) / MIRROR_DIR, data, KEEP_MANIFESTS)


def keep_delta_target(data_root: Path, data: bytes) -> None:
    """Keep a pattern delta python-tuf verified (and that rebuilt its target), by its
    SHA-256, for clients holding the version it starts from; only the newest few stay."""
    _keep(_dir(data_root) / DELTAS_DIR, data, KEEP_DELTAS)


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
    match = _NUMBERED.fullmatch(name)
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
    match = _TARGET.fullmatch(path)
    return (match.group(1), match.group(2)) if match else None


def parse_delta_target(path: str) -> tuple[str, str, int, int] | None:
    """(component, sha256, N, M) of `targets/deltas/<component>/<sha256>.<N>-<M>`'s tail."""
    match = _DELTA.fullmatch(path)
    if match is None:
        return None
    return match.group(1), match.group(2), int(match.group(3)), int(match.group(4))


def delta_target(data_root: Path, sha256: str) -> bytes | None:
    """A kept delta by its SHA-256, checked again; None when not held."""
    data = _read(_dir(data_root) / DELTAS_DIR / sha256)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


def manifest_target(data_root: Path, sha256: str) -> bytes | None:
    data = _read(_dir(data_root) / MIRROR_DIR / sha256)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


def holds_tuf(data_root: Path) -> bool:
    return (_dir(data_root) / "timestamp.json").is_file()


def stale_since(data_root: Path) -> datetime | None:
    """When the timestamp this server last verified expires (or expired): its components
    are "stale since" then when nothing fresher has arrived. None without one. Plain JSON,
    as the client's: every page's banner reads it, and python-tuf stays out of the idle
    server (bench/memory.py)."""
    try:
        raw = json.loads((_dir(data_root) / "timestamp.json").read_bytes())
        expires = datetime.fromisoformat(raw["signed"]["expires"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return expires if expires.tzinfo is not None else None


__all__ = [
    "ENDORSEMENT_FILE",
    "delta_target",
    "endorsement",
    "has_endorsement",
    "holds_tuf",
    "keep_delta_target",
    "keep_manifest_target",
    "manifest_target",
    "metadata",
    "parse_delta_target",
    "parse_target",
    "save_endorsement",
    "stale_since",
]
