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
import hmac
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cssec.core.errors import CssecError

FORMAT = "cssec-backup"
VERSION = 2
MANIFEST = "manifest.json"
MANIFEST_MAC = "manifest.mac"
MAC_ALG = "hmac-sha256"
_MAC_CONTEXT = b"cssec-backup-manifest\0"
KEY_BYTES = 32
CHUNK = 1 << 20


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


class BackupInvalid(CssecError):
    code = "backup_invalid"
    status = 400
    message_ja = (
        "バックアップ {path}を復元できません ({detail})。ファイルが壊れているか、別の種類の"
        "バックアップです。正しいバックアップファイルを指定してください。"
    )
    message_en = (
        "The backup {path} cannot be restored ({detail}): the file is damaged or is another "
        "kind of backup. Give the right backup file."
    )


class BackupKeyRequired(CssecError):
    code = "backup_key_required"
    status = 400
    message_ja = (
        "バックアップは、作成したデータディレクトリのバックアップ鍵 (鍵ID {kid})で認証されて"
        "います。その鍵ファイル ({key_name})を--key-fileで指定してください。"
    )
    message_en = (
        "The backup is authenticated with the backup key of the data directory that made it "
        "(key id {kid}). Give that key file ({key_name}) with --key-file."
    )


class BackupKeyUnreadable(CssecError):
    code = "backup_key_unreadable"
    status = 400
    message_ja = (
        "{path}はバックアップ鍵として読めません ({detail})。データディレクトリの backup.key "
        "(ベンダーは keys/backup.key)を指定してください。"
    )
    message_en = (
        "{path} cannot be read as a backup key ({detail}). Give the data directory's "
        "backup.key (the vendor's keys/backup.key)."
    )


class BackupKeyMismatch(CssecError):
    code = "backup_key_mismatch"
    status = 400
    message_ja = (
        "バックアップ {path}は別の鍵 (鍵ID {expected})で作成されています。指定された鍵の鍵IDは"
        "{given}です。何も復元していません。このバックアップを作成したデータディレクトリの"
        "鍵ファイルを--key-fileで指定してください。"
    )
    message_en = (
        "The backup {path} was made with another key (key id {expected}); the key given has "
        "key id {given}. Nothing was restored. Give the key file of the data directory that "
        "made this backup with --key-file."
    )


class BackupTampered(CssecError):
    code = "backup_tampered"
    status = 400
    message_ja = (
        "バックアップ {path}は作成後に変更されています ({detail})。何も復元していません。"
        "改ざんまたは破損のおそれがあるため、別のバックアップを使用してください。"
    )
    message_en = (
        "The backup {path} was changed after it was made ({detail}). Nothing was restored. "
        "It may have been tampered with or damaged: use another backup."
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


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def load_or_create_key(path: Path) -> bytes:
    """The backup key at `path`, made (32 random bytes, hex, 0600) when there is none."""
    if not path.exists():
        from cssec.core.signing import write_secret_file  # noqa: PLC0415

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_secret_file(path, secrets.token_hex(KEY_BYTES).encode("ascii") + b"\n")
    return read_key(path)


def read_key(path: Path) -> bytes:
    """A backup key file's key; BackupKeyUnreadable when it is not one."""
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BackupKeyUnreadable(path=str(path), detail=type(exc).__name__) from None
    if len(key) < KEY_BYTES // 2:
        raise BackupKeyUnreadable(path=str(path), detail="too short")
    return key


def _manifest_mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, _MAC_CONTEXT + body, hashlib.sha256).hexdigest()


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
            mac = {"alg": MAC_ALG, "kid": key_id(plan.key), "mac": _manifest_mac(plan.key, body)}
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
        manifest = _extract(archive, into=staging, expected=checked)
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


def verify_backup(
    archive: Path, *, kind: str, key: bytes | None, key_name: str = "backup.key"
) -> dict[str, Any]:
    """The archive's manifest, once its MAC under `key` and every member's name and
    SHA-256 are found right, in one pass that writes nothing. BackupKeyRequired,
    BackupKeyMismatch, BackupTampered or BackupInvalid otherwise."""

    def invalid(detail: str) -> BackupInvalid:
        return BackupInvalid(path=str(archive), detail=detail)

    def tampered(detail: str) -> BackupTampered:
        return BackupTampered(path=str(archive), detail=detail)

    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115
    except (OSError, tarfile.TarError) as exc:
        raise invalid(f"not a backup archive: {type(exc).__name__}") from None
    with tar:
        try:
            body = _read_member(tar, MANIFEST, invalid)
            manifest: Any = json.loads(body)
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise invalid("no manifest")
            if manifest.get("version") != VERSION:
                raise invalid(
                    f"format version {manifest.get('version')}, without authentication; "
                    "make a new backup with this version"
                )
            mac: Any = json.loads(_read_member(tar, MANIFEST_MAC, invalid))
            _check_mac(archive, body, mac, key, key_name)
            if manifest.get("kind") != kind:
                raise invalid(f"a {manifest.get('kind')} backup, not a {kind} backup")
            expected = {m["name"]: m for m in manifest["members"]}
            seen: set[str] = set()
            for member in _members_after_header(tar):
                name = member.name
                if name not in expected or name in seen or not member.isfile():
                    raise tampered(f"unexpected member {name!r}")
                _safe(name, invalid)
                source = tar.extractfile(member)
                assert source is not None
                digest = hashlib.sha256()
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected[name]["sha256"]:
                    raise tampered(f"checksum mismatch: {name}")
                seen.add(name)
            missing = sorted(set(expected) - seen)
            if missing:
                raise tampered(f"missing member {missing[0]!r}")
        except (tarfile.TarError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise invalid(f"damaged: {type(exc).__name__}") from None
    return manifest


def _check_mac(archive: Path, body: bytes, mac: Any, key: bytes | None, key_name: str) -> None:
    if not isinstance(mac, dict) or mac.get("alg") != MAC_ALG:
        raise BackupInvalid(path=str(archive), detail="no manifest.mac")
    kid = str(mac.get("kid", ""))
    if key is None:
        raise BackupKeyRequired(kid=kid, key_name=key_name)
    if not hmac.compare_digest(kid, key_id(key)):
        raise BackupKeyMismatch(path=str(archive), expected=kid, given=key_id(key))
    if not hmac.compare_digest(str(mac.get("mac", "")), _manifest_mac(key, body)):
        raise BackupTampered(path=str(archive), detail="the manifest does not match its MAC")


def _read_member(tar: tarfile.TarFile, name: str, invalid: Callable[[str], BackupInvalid]) -> bytes:
    member = tar.next()
    if member is None or member.name != name or not member.isfile():
        raise invalid(f"no {name}")
    handle = tar.extractfile(member)
    assert handle is not None
    return handle.read(1 << 24)


def _members_after_header(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members after manifest.json and manifest.mac (read with `_read_member`)."""
    while (member := tar.next()) is not None:
        yield member


def _extract(archive: Path, *, into: Path, expected: dict[str, Any]) -> dict[str, Any]:
    """Extract the members `verify_backup` checked, checking each checksum again (the file
    could have changed in between); returns the manifest."""

    def invalid(detail: str) -> BackupInvalid:
        return BackupInvalid(path=str(archive), detail=detail)

    members = {m["name"]: m for m in expected["members"]}
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            _read_member(tar, MANIFEST, invalid)
            _read_member(tar, MANIFEST_MAC, invalid)
            seen: set[str] = set()
            for member in _members_after_header(tar):
                name = member.name
                if name not in members or name in seen or not member.isfile():
                    raise BackupTampered(path=str(archive), detail=f"unexpected member {name!r}")
                path = into / _safe(name, invalid)
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                source = tar.extractfile(member)
                assert source is not None
                digest = hashlib.sha256()
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as sink:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != members[name]["sha256"]:
                    raise BackupTampered(path=str(archive), detail=f"checksum mismatch: {name}")
                seen.add(name)
            if set(members) != seen:
                raise BackupTampered(path=str(archive), detail="members changed")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise invalid(f"damaged: {type(exc).__name__}") from None
    return expected


def _safe(name: str, invalid: Callable[[str], BackupInvalid]) -> Path:
    parts = PurePosixPath(name).parts
    if (
        not parts
        or parts[0] not in {"data", "database"}
        or any(p in {"", ".", ".."} for p in parts)
        or PurePosixPath(name).is_absolute()
    ):
        raise invalid(f"unsafe member name {name!r}")
    return Path(*parts)


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
