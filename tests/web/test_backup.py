"""cssec.web.backup: the archive is checked whole before anything is placed."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cssec.web import backup
from cssec.web.backup import (
    BackupExists,
    BackupInvalid,
    BackupPlan,
    DatabaseBackupUnsupported,
    RestoreTargetNotEmpty,
    read_backup,
    skip_names,
    sqlite_dump,
    write_backup,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


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
    )  # fmt: skip


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
    with pytest.raises(BackupInvalid, match="checksum"):
        read_backup(out, kind="test", target=tmp_path / "dst")
    assert not (tmp_path / "dst").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unexpected_or_unsafe_member_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    write_backup(_plan(tmp_path / "src"), out, now=NOW)
    _rewrite(out, {}, extra=("data/../../evil", b"x"))
    with pytest.raises(BackupInvalid, match="unexpected"):
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
