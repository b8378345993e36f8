"""Secrets on disk: written atomically and 0600 from their first byte, and the signing
key file created once even when two processes start together."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cssec.core.signing_keys import SigningKey


def _private_temp_file(path: Path, data: bytes) -> Path:
    """A fully written, fsynced 0600 sibling of `path`, ready to be renamed or linked in.

    mkstemp creates it 0600 before any byte lands in it, so there is no moment of loose
    permissions.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_secret_file(path: Path, data: bytes) -> None:
    """Write so that no reader ever sees a partial file or a moment of loose permissions.

    The rename is atomic on one file system, and the directory is synced so the rename
    survives a crash.
    """
    path = Path(path)
    tmp = _private_temp_file(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        pass
    finally:
        os.close(dir_fd)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """Load the key at `path`, creating it on first use.

    Creation links a fully written 0600 temporary file into place, and linking fails if
    the name exists, so two processes starting at once end up with the same key rather
    than each signing with one the other overwrote.
    """
    path = Path(path)
    if path.exists():
        return SigningKey.from_pem(path.read_bytes())
    key = SigningKey.generate()
    tmp = _private_temp_file(path, key.to_pem())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return SigningKey.from_pem(path.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return key
