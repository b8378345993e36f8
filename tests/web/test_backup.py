"""cssec.web.backup: the archive is authenticated (HMAC under a key it does not carry) and
checked whole before anything is placed."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import sqlite3
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cssec.web import backup
from cssec.web.backup import (
    BackupExists,
    BackupInvalid,
    BackupKeyMismatch,
    BackupKeyRequired,
    BackupPlan,
    BackupTampered,
    DatabaseBackupUnsupported,
    RestoreTargetNotEmpty,
    skip_names,
    sqlite_dump,
    write_backup,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
KEY = bytes(range(32))


def _plan(root: Path) -> BackupPlan:
    root.mkdir()
    with sqlite3.connect(root / "x.db") as db:
        db.execute("CREATE TABLE t (v)")
        db.execute("INSERT INTO t VALUES (42)")
    (root / "keys").mkdir()
    (root / "keys" / "k.json").write_text('{"k": 1}')
    (root / ".lock").write_text("")
    return BackupPlan(
        kind="test", data_dir=root, database="sqlite", dump=sqlite_dump(root / "x.db"),
        skip=skip_names(root, ["x.db", "x.db-wal"], prefixes=(".",)), settings={"a": 1},
        key=KEY,
    )  # fmt: skip


def read_backup(
    archive: Path, *, kind: str, target: Path, key: bytes | None = KEY
) -> backup.Restored:
    return backup.read_backup(
        archive, kind=kind, target=target, key=key, key_name="backup.key", key_path="backup.key"
    )


def _leftovers(tmp_path: Path) -> list[str]:
    """Anything a refused restore left: the target, or a staging directory."""
    return [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.name == "dst"]


def _rewrite(
    archive: Path, change: dict[str, bytes], extra: tuple[str, bytes] | None = None
) -> None:
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    archive.unlink()
    with tarfile.open(archive, "w:gz") as tar:
        for member, original in members:
            body = change.get(member.name, original)
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
        if extra:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            tar.addfile(info, io.BytesIO(extra[1]))


def test_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    manifest = write_backup(_plan(tmp_path / "src"), out, now=NOW)
    assert [m["name"] for m in manifest["members"]] == ["database/x.db", "data/keys/k.json"]
    with pytest.raises(BackupExists):
        write_backup(_plan(tmp_path / "src2"), out, now=NOW)
    restored = read_backup(out, kind="test", target=tmp_path / "dst")
    with sqlite3.connect(restored.data_dir / "x.db") as db:
        assert db.execute("SELECT v FROM t").fetchone() == (42,)
    assert (restored.data_dir / "keys" / "k.json").read_text() == '{"k": 1}'
    assert not (restored.data_dir / ".lock").exists()
    with pytest.raises(RestoreTargetNotEmpty):
        read_backup(out, kind="test", target=tmp_path / "dst")


def test_tampered_member_is_refused_and_nothing_placed(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    _rewrite(out, {"data/keys/k.json": b'{"k": 2}'})
    with pytest.raises(BackupTampered, match="checksum"):
        read_backup(out, kind="test", target=tmp_path / "dst")
    assert _leftovers(tmp_path) == []


def test_unexpected_or_unsafe_member_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    _rewrite(out, {}, extra=("data/../../evil", b"x"))
    with pytest.raises(BackupTampered, match="unexpected"):
        read_backup(out, kind="test", target=tmp_path / "dst")
    assert not (tmp_path / "evil").exists()


def test_another_kind_of_backup_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    with pytest.raises(BackupInvalid, match="not a server backup"):
        read_backup(out, kind="server", target=tmp_path / "dst")


def test_manifest_names_every_member_with_its_digest(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["format"] == "cssec-backup"
    assert manifest["kind"] == "test"
    assert all(len(m["sha256"]) == 64 for m in manifest["members"])


def test_postgresql_without_pg_dump_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda _name: None)
    with pytest.raises(DatabaseBackupUnsupported) as raised:
        backup.pg_dump("postgresql://x/y")(tmp_path)
    assert "pg_dump" in raised.value.message("ja")
    assert "PATH" in raised.value.message("en")


def _manifest_of(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        body = tar.extractfile("manifest.json").read()  # type: ignore[union-attr]
    loaded: dict[str, object] = json.loads(body)
    return loaded


def test_a_rewritten_member_with_a_rewritten_manifest_is_refused_before_extraction(
    tmp_path: Path,
) -> None:
    """Issue 22: the manifest was plain SHA-256, so rewriting a member and its checksum
    restored the forgery. The MAC over the manifest (under a key not in the archive) stops it
    before anything is written."""
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    forged = b'{"k": "attacker"}'
    manifest = _manifest_of(out)
    for member in manifest["members"]:  # type: ignore[attr-defined]
        if member["name"] == "data/keys/k.json":
            member["sha256"] = hashlib.sha256(forged).hexdigest()
            member["size"] = len(forged)
    body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    _rewrite(out, {"data/keys/k.json": forged, "manifest.json": body})
    with pytest.raises(BackupTampered, match="MAC") as raised:
        read_backup(out, kind="test", target=tmp_path / "dst")
    assert _leftovers(tmp_path) == []
    assert "何も復元していません" in raised.value.message("ja")
    assert "Nothing was restored" in raised.value.message("en")
    # The same forgery with a MAC under a guessed key is refused by the key id.
    mac = {"alg": "hmac-sha256", "kid": backup.key_id(KEY),
           "mac": hmac.new(b"guess", body, "sha256").hexdigest()}  # fmt: skip
    _rewrite(out, {"manifest.mac": json.dumps(mac).encode()})
    with pytest.raises(BackupTampered):
        read_backup(out, kind="test", target=tmp_path / "dst")
    assert _leftovers(tmp_path) == []


def test_a_wrong_key_or_none_is_refused_and_names_the_key(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    with pytest.raises(BackupKeyMismatch) as wrong:
        read_backup(out, kind="test", target=tmp_path / "dst", key=b"\x01" * 32)
    assert backup.key_id(KEY) in wrong.value.message("en")
    assert "--key-file" in wrong.value.message("ja")
    with pytest.raises(BackupKeyRequired) as missing:
        read_backup(out, kind="test", target=tmp_path / "dst", key=None)
    assert backup.key_id(KEY) in missing.value.message("ja")
    assert _leftovers(tmp_path) == []


def test_an_unauthenticated_version_1_archive_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    manifest = _manifest_of(out)
    manifest["version"] = 1
    _rewrite(out, {"manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(BackupInvalid, match="version 1"):
        read_backup(out, kind="test", target=tmp_path / "dst")


def test_the_key_is_not_in_the_archive_and_the_restore_is_private(tmp_path: Path) -> None:
    src = tmp_path / "src"
    plan = _plan(src)
    (src / "backup.key").write_text(KEY.hex())
    plan = backup.BackupPlan(**{**plan.__dict__, "skip": skip_names(
        src, ["x.db", "x.db-wal", "backup.key"], prefixes=(".",))})  # fmt: skip
    (src / "keys" / "k.json").chmod(0o644)
    out = tmp_path / "b.tar"
    write_backup(plan, out, now=NOW)
    assert os.stat(out).st_mode & 0o777 == 0o600
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert not any("backup.key" in name for name in names)
        assert KEY.hex().encode() not in b"".join(
            tar.extractfile(m).read()
            for m in tar
            if m.isfile()  # type: ignore[union-attr]
        )
    restored = read_backup(out, kind="test", target=tmp_path / "dst").data_dir
    assert (restored / "backup.key").read_text().strip() == KEY.hex()
    for directory, _dirs, files in os.walk(restored):
        assert os.stat(directory).st_mode & 0o777 == 0o700, directory
        for name in files:
            assert os.stat(Path(directory) / name).st_mode & 0o777 == 0o600, name


def test_force_replaces_a_file_or_a_link_never_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "b.tar"
    link.symlink_to(victim)
    with pytest.raises(BackupExists):
        write_backup(_plan(tmp_path / "src"), link, now=NOW)
    write_backup(_plan(tmp_path / "src2"), link, now=NOW, force=True)
    assert victim.read_text() == "keep me"
    assert not link.is_symlink()
    assert read_backup(link, kind="test", target=tmp_path / "dst").data_dir.is_dir()
