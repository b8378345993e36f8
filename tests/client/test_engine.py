from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import cssec
from cssec.client.engine import (
    IssueKind,
    LoadedComponent,
    ScanEngine,
    SkipReason,
    validate_component,
)
from cssec.core.components import COMPONENT_FILENAMES, sha256_hex
from cssec.core.policy import Component

SEED_DIR = Path(cssec.__file__).parent / "vendor_service" / "activeupdate_seed"


def seed_files() -> dict[Component, bytes]:
    return {c: (SEED_DIR / name).read_bytes() for c, name in COMPONENT_FILENAMES.items()}


def engine_with(**overrides: object) -> ScanEngine:
    files = seed_files()
    config = json.loads(files[Component.SCAN_ENGINE])
    config.update(overrides)
    files[Component.SCAN_ENGINE] = json.dumps(config).encode()
    return ScanEngine.from_components({c: LoadedComponent(1, d) for c, d in files.items()})


@pytest.fixture
def engine() -> ScanEngine:
    return engine_with()


def test_eicar_detected_with_its_threat_name_and_hash(
    eicar: bytes, engine: ScanEngine, tmp_path: Path
) -> None:
    sample = tmp_path / "eicar.com"
    sample.write_bytes(eicar + b"\r\n")
    report = engine.scan(sample)
    assert report.exit_code == 1
    [detection] = report.detections
    assert detection.threat == "Eicar_test_file"
    assert detection.rule == "EICAR_Test_File"
    assert detection.component is Component.VIRUS_PATTERN
    assert detection.component_version == 1
    assert detection.sha256 == sha256_hex(eicar + b"\r\n")
    assert detection.path == str(sample)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda e: b" " + e, id="not-at-start"),
        pytest.param(lambda e: e + b"x", id="trailing-garbage"),
        pytest.param(lambda e: e + b" " * 61, id="over-128-bytes"),
        pytest.param(lambda e: e[:-1], id="truncated"),
    ],
)
def test_eicar_rule_matches_only_what_av_matches(
    eicar: bytes, engine: ScanEngine, tmp_path: Path, content: Callable[[bytes], bytes]
) -> None:
    sample = tmp_path / "sample"
    sample.write_bytes(content(eicar))
    assert engine.scan(sample).detections == []


def test_spyware_marker_detected_ascii_and_utf16(
    marker: bytes, engine: ScanEngine, tmp_path: Path
) -> None:
    (tmp_path / "a.bin").write_bytes(b"prefix " + marker + b" suffix")
    (tmp_path / "b.txt").write_bytes(marker.decode().encode("utf-16-le"))
    report = engine.scan(tmp_path)
    assert sorted(Path(d.path).name for d in report.detections) == ["a.bin", "b.txt"]
    assert {d.threat for d in report.detections} == {"Spyware_test_file"}
    assert {d.component for d in report.detections} == {Component.SPYWARE_PATTERN}


def test_clean_tree_is_clean(engine: ScanEngine, tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "readme.txt").write_text("nothing to see")
    (tmp_path / "sub" / "deeper" / "empty").write_bytes(b"")
    report = engine.scan(tmp_path)
    assert (report.exit_code, report.files_scanned, report.issues) == (0, 2, [])


def test_pattern_files_do_not_detect_themselves(engine: ScanEngine) -> None:
    report = engine.scan(SEED_DIR)
    assert (report.detections, report.issues) == ([], [])
    assert report.files_scanned >= 4


def test_oversized_file_is_skipped_not_scanned(eicar: bytes, tmp_path: Path) -> None:
    engine = engine_with(max_file_bytes=64)
    (tmp_path / "eicar.com").write_bytes(eicar)
    report = engine.scan(tmp_path)
    assert report.detections == []
    assert [s.reason for s in report.skipped] == [SkipReason.TOO_LARGE]
    assert report.exit_code == 0


def test_symlink_not_followed_unless_configured(eicar: bytes, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "eicar.com").write_bytes(eicar)
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    (scanned / "link-to-file").symlink_to(outside / "eicar.com")
    (scanned / "link-to-dir").symlink_to(outside, target_is_directory=True)
    (scanned / "loop").symlink_to(scanned, target_is_directory=True)

    report = engine_with().scan(scanned)
    assert report.detections == []
    assert sorted(Path(s.path).name for s in report.skipped) == [
        "link-to-dir",
        "link-to-file",
        "loop",
    ]
    assert {s.reason for s in report.skipped} == {SkipReason.SYMLINK}

    followed = engine_with(follow_symlinks=True).scan(scanned)
    assert sorted(Path(d.path).name for d in followed.detections) == ["eicar.com", "link-to-file"]
    assert followed.issues == []  # the loop back to `scanned` is walked once


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc")
def test_read_error_is_reported_and_the_scan_goes_on(engine: ScanEngine, tmp_path: Path) -> None:
    # /proc/self/mem is a regular file whose read at offset 0 fails (EIO), even for root.
    bad = Path("/proc/self/mem")
    report = engine.scan(bad)
    assert [i.kind for i in report.issues] == [IssueKind.UNREADABLE]
    assert report.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported(eicar: bytes, engine: ScanEngine, tmp_path: Path) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar)
    locked = tmp_path / "locked"
    locked.write_bytes(b"secret")
    locked.chmod(0)
    try:
        report = engine.scan(tmp_path)
    finally:
        locked.chmod(0o600)
    assert [(Path(i.path).name, i.kind) for i in report.issues] == [
        ("locked", IssueKind.UNREADABLE)
    ]
    assert len(report.detections) == 1
    assert report.exit_code == 1  # threats found outranks errors


def test_missing_path_and_fifo(engine: ScanEngine, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # opening it for reading would block a naive scanner
    report = engine.scan(tmp_path)
    assert [s.reason for s in report.skipped] == [SkipReason.NOT_REGULAR]
    missing = engine.scan(tmp_path / "nope")
    assert [i.kind for i in missing.issues] == [IssueKind.NOT_FOUND]
    assert missing.exit_code == 2


def test_bad_pattern_is_reported_and_the_other_pattern_still_works(
    eicar: bytes, tmp_path: Path
) -> None:
    files = seed_files()
    components = {c: LoadedComponent(1, d) for c, d in files.items()}
    components[Component.SPYWARE_PATTERN] = LoadedComponent(2, b"rule broken {")
    engine = ScanEngine.from_components(components)
    (tmp_path / "eicar.com").write_bytes(eicar)
    report = engine.scan(tmp_path)
    assert [d.threat for d in report.detections] == ["Eicar_test_file"]
    assert [(i.path, i.kind) for i in report.issues] == [
        ("spyware_pattern", IssueKind.PATTERN_ERROR)
    ]


def test_no_patterns_is_an_error(tmp_path: Path) -> None:
    engine = ScanEngine.from_components({})
    assert not engine.has_rules
    report = engine.scan(tmp_path)
    assert IssueKind.NO_PATTERNS in {i.kind for i in report.issues}
    assert report.exit_code == 2


def test_pattern_includes_are_refused() -> None:
    assert validate_component(Component.VIRUS_PATTERN, b'include "/etc/passwd"\n') is not None
    assert validate_component(Component.VIRUS_PATTERN, b"\xff\xfe") is not None
    assert validate_component(Component.SCAN_ENGINE, b"{}") is not None
    for component, data in seed_files().items():
        assert validate_component(component, data) is None
