"""The quarantine store: moved aside privately, hashed, listed, restored without overwriting."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cssec.client.errors import QuarantineDamaged, QuarantineNotFound, RestoreTargetExists
from cssec.client.quarantine import list_quarantine, quarantine_file, restore
from cssec.client.state import ClientState
from cssec.core.clock import FakeClock
from cssec.core.components import sha256_hex

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
Cli = Any  # conftest.Cli


def _quarantine(state: ClientState, original: Path, data: bytes) -> Any:
    original.write_bytes(data)
    original.chmod(0o640)
    record = quarantine_file(
        state,
        original_path=str(original),
        data=data,
        threat="Eicar_test_file",
        mode=original.stat().st_mode,
        clock=FakeClock(NOW),
    )
    original.unlink()
    return record


def test_quarantine_is_private_hashed_and_restorable(tmp_path: Path, eicar: bytes) -> None:
    state = ClientState(tmp_path / "client")
    original = tmp_path / "eicar.com"
    record = _quarantine(state, original, eicar)
    assert record.id.startswith("20260501T120000Z-")
    assert (record.sha256, record.size) == (sha256_hex(eicar), len(eicar))
    assert record.threat == "Eicar_test_file"
    entry = state.quarantine_dir / record.id
    assert stat.S_IMODE(entry.stat().st_mode) == 0o700
    for name in ("file", "record.json"):
        assert stat.S_IMODE((entry / name).stat().st_mode) == 0o600
    saved = json.loads((entry / "record.json").read_text())
    assert saved["original_path"] == str(original)
    assert saved["sha256"] == sha256_hex(eicar)
    assert saved["at"] == "2026-05-01T12:00:00Z"
    assert list_quarantine(state) == [record]

    restored = restore(state, record.id)
    assert restored == record
    assert original.read_bytes() == eicar
    assert stat.S_IMODE(original.stat().st_mode) == 0o640
    assert list_quarantine(state) == []
    assert not entry.exists()


def test_restore_refuses_to_overwrite(tmp_path: Path, eicar: bytes) -> None:
    state = ClientState(tmp_path / "client")
    original = tmp_path / "eicar.com"
    record = _quarantine(state, original, eicar)
    original.write_text("a new file with the same name")
    with pytest.raises(RestoreTargetExists):
        restore(state, record.id)
    assert original.read_text() == "a new file with the same name"
    assert list_quarantine(state) == [record]  # still quarantined


def test_restore_refuses_altered_bytes(tmp_path: Path, eicar: bytes) -> None:
    state = ClientState(tmp_path / "client")
    original = tmp_path / "eicar.com"
    record = _quarantine(state, original, eicar)
    (state.quarantine_dir / record.id / "file").write_bytes(b"Y" + eicar[1:])
    with pytest.raises(QuarantineDamaged):
        restore(state, record.id)
    assert not original.exists()


def test_unknown_ids_and_incomplete_entries(tmp_path: Path, eicar: bytes) -> None:
    state = ClientState(tmp_path / "client")
    record = _quarantine(state, tmp_path / "eicar.com", eicar)
    for bad in ("../../etc/passwd", "20260501T120000Z-00000000", ""):
        with pytest.raises(QuarantineNotFound):
            restore(state, bad)
    (state.quarantine_dir / "20260101T000000Z-deadbeef").mkdir()  # interrupted: no record
    (state.quarantine_dir / ("a" * 64)).write_bytes(b"old flat layout")
    assert list_quarantine(state) == [record]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_cli_list_and_restore(
    installed: Path, tmp_path: Path, eicar: bytes, marker: bytes, cli: Cli, lang: str
) -> None:
    target = tmp_path / "spy.bin"
    target.write_bytes(marker)
    assert cli("clean", str(target), "--dir", str(installed), lang=lang).exit_code == 0
    assert not target.exists()

    listing = cli("quarantine", "list", "--dir", str(installed), lang=lang)
    assert listing.exit_code == 0
    [line] = listing.stdout.splitlines()
    quarantine_id = line.split()[0]
    assert "Spyware_test_file" in line
    assert str(target) in line
    assert sha256_hex(marker) in line

    target.write_text("in the way")
    refused = cli("quarantine", "restore", quarantine_id, "--dir", str(installed), lang=lang)
    assert refused.exit_code == 1
    expected = "上書きはしません" if lang == "ja" else "it is never overwritten"
    assert expected in refused.stderr
    target.unlink()

    restored = cli("quarantine", "restore", quarantine_id, "--dir", str(installed), lang=lang)
    assert restored.exit_code == 0
    expected = "復元しました" if lang == "ja" else "Restored the file"
    assert expected in restored.stdout
    assert target.read_bytes() == marker
    empty = cli("quarantine", "list", "--dir", str(installed), lang=lang)
    assert empty.stdout.strip() == (
        "隔離中のファイルはありません。" if lang == "ja" else "No quarantined files."
    )

    missing = cli("quarantine", "restore", quarantine_id, "--dir", str(installed), lang=lang)
    assert missing.exit_code == 1
    expected = "隔離 ID" if lang == "ja" else "There is no quarantined file"
    assert expected in missing.stderr
