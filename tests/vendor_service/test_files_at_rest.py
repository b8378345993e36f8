"""Issue 22, item 5, the vendor side: its data directory's modes, authenticated backups
(`cssec vendor backup|restore`, the key kept out of the archive) and its `--out` files.

Before: a restore trusted a manifest of plain SHA-256 sums; `license respond --out` and
`component bundle --out` overwrote files and followed links. After: see each test.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.vendor_service.cli import app
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.settings import VendorSettings

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--lang", "en", *args])
    return result.exit_code, result.output


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vendor data directory on SQLite, made under an ordinary umask (022)."""
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    root = tmp_path / "vendor"
    old = os.umask(0o022)
    try:
        open_vendor(VendorSettings(data_dir=root)).close()
    finally:
        os.umask(old)
    return root


def test_a_new_data_directory_is_private_but_for_the_activeupdate_files(data: Path) -> None:
    for name in ("vendor.db", "keys/hmac.json", "keys/session-secret"):
        assert _mode(data / name) == 0o600, name
    assert _mode(data / "keys") == 0o700
    for directory, dirs, files in os.walk(data):
        for name in dirs + files:
            path = Path(directory) / name
            assert _mode(path) & 0o007 == 0, f"{path} is open to other users"
            if "activeupdate" not in path.parts:
                assert _mode(path) & 0o077 == 0, path


def test_loose_modes_are_fixed_when_the_vendor_opens_and_logged(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blobs = [p for p in (data / "activeupdate").iterdir() if p.is_file()]
    assert blobs
    (data / "vendor.db").chmod(0o644)
    (data / "keys" / "hmac.json").chmod(0o666)
    (data / "keys").chmod(0o755)
    blobs[0].chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="cssec.web.filemodes"):
        open_vendor(VendorSettings(data_dir=data)).close()
    assert _mode(data / "vendor.db") == 0o600
    assert _mode(data / "keys" / "hmac.json") == 0o600
    assert _mode(data / "keys") == 0o700
    assert _mode(blobs[0]) == 0o640, "nginx's group keeps reading the component files"
    assert "was 0666, now 0600" in caplog.text


def test_backup_and_restore_need_the_key_the_archive_does_not_carry(
    data: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "vendor.backup"
    code, output = _cli("backup", "--out", str(archive), "--data", str(data))
    assert code == 0, output
    key = data / "keys" / "backup.key"
    assert f"backup key (restore --key-file): {key}" in output
    assert _mode(key) == 0o600
    assert _mode(archive) == 0o600

    code, output = _cli("backup", "--out", str(archive), "--data", str(data))
    assert code == 1
    assert "backup_exists" in output
    code, output = _cli("backup", "--out", str(archive), "--data", str(data), "--force")
    assert code == 0, output

    target = tmp_path / "restored"
    code, output = _cli("restore", str(archive), "--data", str(target))
    assert code == 1
    assert "backup_key_required" in output
    wrong = tmp_path / "other.key"
    wrong.write_text("11" * 32)
    code, output = _cli("restore", str(archive), "--data", str(target), "--key-file", str(wrong))
    assert code == 1
    assert "backup_key_mismatch" in output
    assert "Nothing was restored" in output
    assert not target.exists()

    code, output = _cli("restore", str(archive), "--data", str(target), "--key-file", str(key))
    assert code == 0, output
    assert (target / "keys" / "backup.key").read_bytes() == key.read_bytes()
    for directory, _dirs, files in os.walk(target):
        shared = "activeupdate" in Path(directory).parts  # nginx's group reads these
        assert _mode(Path(directory)) & (0o027 if shared else 0o077) == 0, directory
        for name in files:
            assert _mode(Path(directory) / name) & (0o037 if shared else 0o077) == 0, name
    assert _mode(target / "vendor.db") == 0o600
    # The ActiveUpdate files nginx sends straight from disk are its group's again, as
    # they were in the backed-up directory.
    store = target / "activeupdate"
    assert _mode(store) == _mode(data / "activeupdate") == 0o750
    blobs = {p.name: _mode(p) for p in store.iterdir() if p.is_file()}
    assert 0o640 in blobs.values()
    assert blobs == {p.name: _mode(p) for p in (data / "activeupdate").iterdir() if p.is_file()}


@pytest.mark.parametrize("command", ["respond", "bundle"])
def test_out_files_are_never_overwritten_nor_followed(
    data: Path, tmp_path: Path, command: str
) -> None:
    request = tmp_path / "REQ.json"
    request.write_text("{}")
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    existing = tmp_path / "existing.json"
    existing.write_text("earlier")
    for out in (existing, link):
        if command == "respond":
            args = ["license", "respond", str(request), "--out", str(out)]
        else:
            args = ["component", "bundle", "--code", "X", "--out", str(out)]
        code, output = _cli(*args, "--data", str(data))
        assert code == 1, output
        assert "output_exists" in output
    assert existing.read_text() == "earlier"
    assert victim.read_text() == "not yours"


def test_an_empty_database_url_is_sqlite_for_every_command(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CSSEC_VENDOR_DATABASE_URL=` (set but empty): backup took it for PostgreSQL (pg_dump)
    while every other command opened SQLite."""
    monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", "")
    assert VendorSettings(data_dir=data).database_url is None
    archive = tmp_path / "vendor.backup"
    code, output = _cli("backup", "--out", str(archive), "--data", str(data))
    assert code == 0, output
    assert "sqlite" in output.casefold() or "SQLite" in output
