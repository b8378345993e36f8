"""Checking a backup archive before a restore extracts it (`cssec.web.backup` writes them):
its manifest's HMAC under the backup key, then every member's name and SHA-256, in a pass
that writes nothing; then the extraction, each checksum checked again. The format and the
key are described in `cssec.web.backup`."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from cssec.core.errors import CssecError, Phrase

FORMAT = "cssec-backup"
VERSION = 2
MANIFEST = "manifest.json"
MANIFEST_MAC = "manifest.mac"
MAC_ALG = "hmac-sha256"
_MAC_CONTEXT = b"cssec-backup-manifest\0"
KEY_BYTES = 32
CHUNK = 1 << 20


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


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def load_or_create_key(path: Path) -> bytes:
    """The backup key at `path`, made (32 random bytes, hex, 0600) when there is none."""
    if not path.exists():
        from cssec.core.secret_files import write_secret_file  # noqa: PLC0415

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_secret_file(path, secrets.token_hex(KEY_BYTES).encode("ascii") + b"\n")
    return read_key(path)


def read_key(path: Path) -> bytes:
    """A backup key file's key; BackupKeyUnreadable when it is not one."""
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except OSError:
        raise BackupKeyUnreadable(
            path=str(path), detail=Phrase("ファイルを読めません", "the file cannot be read")
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise BackupKeyUnreadable(
            path=str(path), detail=Phrase("16進数の鍵ではありません", "not a hexadecimal key")
        ) from None
    if len(key) < KEY_BYTES // 2:
        raise BackupKeyUnreadable(path=str(path), detail=Phrase("鍵が短すぎます", "too short"))
    return key


def manifest_mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, _MAC_CONTEXT + body, hashlib.sha256).hexdigest()


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
    if not hmac.compare_digest(str(mac.get("mac", "")), manifest_mac(key, body)):
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


def extract_checked(archive: Path, *, into: Path, expected: dict[str, Any]) -> dict[str, Any]:
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


__all__ = [
    "BackupInvalid",
    "BackupKeyMismatch",
    "BackupKeyRequired",
    "BackupKeyUnreadable",
    "BackupTampered",
    "extract_checked",
    "key_id",
    "load_or_create_key",
    "manifest_mac",
    "read_key",
    "verify_backup",
]
