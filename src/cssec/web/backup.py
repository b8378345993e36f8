"""Backup archives of a data directory, shared by `cssec vendor backup|restore` and `cssec
server backup|restore`.

**Format.** One tar file (gzip), mode 0600, written under a temporary name and renamed into
place. Its first member is `manifest.json`::

    {"format": "cssec-backup", "version": 2, "kind": "vendor" | "server",
     "created_at": "…Z", "database": "sqlite" | "postgresql" | "external",
     "settings": {non-secret settings in effect}, "members": [{"name", "sha256", "size"}]}

its second `manifest.mac`, which authenticates the manifest's exact bytes::

    {"alg": "hmac-sha256", "kid": "<first 16 hex of SHA-256(key)>", "mac": "<hex>"}

under the data directory's backup key (`backup.key`, 32 random bytes, 0600; made at the
first backup). The key is never in the backup: whoever can rewrite an archive (a member
and the manifest's checksum with it) cannot make the MAC match. A restore onto a fresh
machine is given the key file (`--key-file`); keep a copy of it apart from the backups.

then each member: `database/<file>` (an SQLite copy made with SQLite's online backup API,
consistent while the service keeps writing, or a `pg_dump --format=custom` dump), and
`data/<path>` for every other file of the data directory (keys, certificates, settings
files, components), copied after the database: keys are only ever added, so the copy
holds every key the database references.

**Restore.** Only into a directory that does not exist or is empty (never over a live
one). Nothing is extracted before the whole archive is checked: the manifest's MAC under
the key given (a wrong key and a rewritten manifest are told apart by the key id), then,
in a first pass that writes nothing, every member's name and SHA-256 against the
manifest. Only then are the members extracted (and their checksums checked again), names
staying inside the directory, and the result renamed into place whole, files 0600 and
directories 0700, the key file beside them. Version 1 archives (no MAC) are refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.core.errors import CssecError
from cssec.web.backup_verify import (
    CHUNK,
    FORMAT,
    MAC_ALG,
    MANIFEST,
    MANIFEST_MAC,
    VERSION,
    BackupInvalid,
    BackupKeyMismatch,
    BackupKeyRequired,
    BackupKeyUnreadable,
    BackupTampered,
    extract_checked,
    key_id,
    load_or_create_key,
    manifest_mac,
    read_key,
    verify_backup,
)


class BackupExists(CssecError):
    code = "backup_exists"
    status = 409
    message_ja = "{path}は既にあります。上書きしないため、別のファイル名を指定してください。"
    message_en = "{path} already exists; it is never overwritten. Choose another file name."


class RestoreTargetNotEmpty(CssecError):
    code = "restore_target_not_empty"
    status = 409
    message_ja = (
        "{path}は空ではありません。使用中のデータを上書きしないため、復元は新しいディレクトリか"
        "空のディレクトリにだけ行います。別の --dataを指定してください。"
    )
    message_en = (
        "{path} is not empty. A restore never overwrites data in use: give a new or empty "
        "directory with --data."
    )


class DatabaseBackupUnsupported(CssecError):
    code = "backup_unsupported"
    status = 501
    message_ja = (
        "PostgreSQLのデータベースをバックアップ・復元するには {tool}が必要ですが、PATHに"
        "見つかりません。PostgreSQLのクライアントツールをインストールするか、データベースは"
        "PostgreSQLの手順 (pg_dump / pg_restore)で別にバックアップしてください。"
    )
    message_en = (
        "Backing up or restoring a PostgreSQL database needs {tool}, which is not on PATH. "
        "Install the PostgreSQL client tools, or back the database up separately with "
        "PostgreSQL's own tools (pg_dump / pg_restore)."
    )


class DatabaseToolFailed(CssecError):
    code = "backup_database_failed"
    status = 500
    message_ja = "{tool}が失敗しました ({detail})。接続先と権限を確認してください。"
    message_en = "{tool} failed ({detail}). Check the connection and its permissions."


@dataclass(frozen=True)
class BackupPlan:
    """What one backup holds: the data directory (`skip` names what not to copy as a file:
    the live database and its journals, locks, temporaries) and how to dump the database."""

    kind: str
    data_dir: Path
    database: str
    dump: Callable[[Path], str]
    """Writes the database into the given directory; returns the file's name."""
    skip: Callable[[Path], bool]
    settings: dict[str, Any]
    key: bytes
    """The backup key (`load_or_create_key`); the plan's `skip` must leave its file out."""


@dataclass(frozen=True)
class Restored:
    data_dir: Path
    manifest: dict[str, Any]
    database_file: Path | None
    """The dump (outside the data directory) the caller still has to load, if any."""


def sqlite_dump(database: Path) -> Callable[[Path], str]:
    """SQLite's online backup API: a consistent copy while other connections write."""

    def dump(into: Path) -> str:
        target = into / database.name
        source = sqlite3.connect(database, timeout=30)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        return target.name

    return dump


def pg_dump(url: str) -> Callable[[Path], str]:
    """`pg_dump --format=custom`; DatabaseBackupUnsupported when it is not on PATH."""

    def dump(into: Path) -> str:
        tool = shutil.which("pg_dump")
        if tool is None:
            raise DatabaseBackupUnsupported(tool="pg_dump")
        target = into / "database.pgdump"
        _run_tool([tool, "--format=custom", "--no-owner", "--file", str(target), "--dbname", url])
        return target.name

    return dump


def pg_restore(dump: Path, url: str) -> None:
    tool = shutil.which("pg_restore")
    if tool is None:
        raise DatabaseBackupUnsupported(tool="pg_restore")
    _run_tool([tool, "--no-owner", "--exit-on-error", "--dbname", url, str(dump)])


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it (no `+driver`)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


def _run_tool(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:300] or f"exit {result.returncode}"
        raise DatabaseToolFailed(tool=Path(command[0]).name, detail=detail)


def write_backup(
    plan: BackupPlan, out: Path, *, now: datetime, force: bool = False
) -> dict[str, Any]:
    """Write the archive to `out`; returns its manifest. `out` must not exist (nor be a
    symbolic link) unless `force`, which replaces it (a link itself, never its target)."""
    out = out.absolute()
    if not force and (out.exists() or out.is_symlink()):
        raise BackupExists(path=str(out))
    with tempfile.TemporaryDirectory(prefix=".cssec-backup-", dir=out.parent) as tmp:
        staging = Path(tmp)
        database_name = plan.dump(staging)  # first: the keys copied after it cover it
        members = [(f"database/{database_name}", staging / database_name)]
        members += [
            (f"data/{path.relative_to(plan.data_dir).as_posix()}", path)
            for path in _files(plan.data_dir, plan.skip)
        ]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kind": plan.kind,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "database": plan.database,
            "settings": plan.settings,
            "members": [
                {"name": name, "sha256": _sha256(path), "size": path.stat().st_size}
                for name, path in members
            ],
        }
        archive = staging / "archive.tar.gz"
        fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            mac = {"alg": MAC_ALG, "kid": key_id(plan.key), "mac": manifest_mac(plan.key, body)}
            for name, content in ((MANIFEST, body), (MANIFEST_MAC, json.dumps(mac).encode())):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(content), 0o600, int(now.timestamp())
                tar.addfile(info, io.BytesIO(content))
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            raw.flush()
            os.fsync(raw.fileno())
        if force:
            archive.replace(out)  # a symbolic link at `out` is replaced, not followed
        else:
            try:
                os.link(archive, out)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise BackupExists(path=str(out)) from None
    return manifest


def read_backup(
    archive: Path, *, kind: str, target: Path, key: bytes | None, key_name: str, key_path: str
) -> Restored:
    """Check `archive` whole (MAC under `key`, then every member), then place its data
    directory at `target` (absent or empty) with the key file at `target/<key_path>`. An
    SQLite copy `database/<file>` goes to `target/<file>`; a PostgreSQL dump is left in a
    temporary file for the caller to load (`Restored.database_file`). BackupKeyRequired
    when `key` is None (`key_name` names the file in the message)."""
    target = target.absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreTargetNotEmpty(path=str(target))
    checked = verify_backup(archive, kind=kind, key=key, key_name=key_name)
    assert key is not None
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    try:
        manifest = extract_checked(archive, into=staging, expected=checked)
        placed = staging / "data" / key_path
        placed.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(placed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
        dump: Path | None = None
        if manifest["database"] == "postgresql":
            dump_dir = Path(tempfile.mkdtemp(prefix="cssec-restore-"))
            for found in (staging / "database").iterdir():
                dump = dump_dir / found.name
                found.replace(dump)
        else:
            for found in (staging / "database").iterdir():
                found.replace(staging / "data" / found.name)
        data = staging / "data"
        data.mkdir(exist_ok=True, mode=0o700)
        for directory, _dirs, files in os.walk(data):
            os.chmod(directory, 0o700)
            for name in files:
                os.chmod(Path(directory) / name, 0o600)
        if target.exists():
            target.rmdir()  # empty, checked above
        data.rename(target)
        return Restored(data_dir=target, manifest=manifest, database_file=dump)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _files(root: Path, skip: Callable[[Path], bool]) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink() and not skip(path):
                yield path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def skip_names(
    root: Path, names: Iterable[str], *, prefixes: Iterable[str] = ()
) -> Callable[[Path], bool]:
    """A `skip` for files named in `names` at the top of `root`, and any file whose name
    starts with one of `prefixes` (temporaries, locks) anywhere."""
    top = frozenset(names)
    starts = tuple(prefixes)

    def skip(path: Path) -> bool:
        return (path.parent == root and path.name in top) or path.name.startswith(starts)

    return skip


__all__ = [
    "BackupExists",
    "BackupInvalid",
    "BackupKeyMismatch",
    "BackupKeyRequired",
    "BackupKeyUnreadable",
    "BackupPlan",
    "BackupTampered",
    "DatabaseBackupUnsupported",
    "DatabaseToolFailed",
    "RestoreTargetNotEmpty",
    "Restored",
    "key_id",
    "libpq_url",
    "load_or_create_key",
    "pg_dump",
    "pg_restore",
    "read_backup",
    "read_key",
    "skip_names",
    "sqlite_dump",
    "verify_backup",
    "write_backup",
]
