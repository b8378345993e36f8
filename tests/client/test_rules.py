"""An engine's rules are compiled in a short-lived child process (`client.rules`,
`client.yarac`) and kept for the next engine; a child that crashes leaves the engine
without those patterns, reported, never the client down. (An update's check of a new
pattern: tests/client/test_updater.py.)"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import pytest

from cssec.client import rules
from cssec.client.engine import IssueKind, load_engine
from cssec.client.state import ClientState
from cssec.core.policy import Component

CRASHING = [sys.executable, "-c", "import os; os.abort()"]


def test_an_engine_loads_the_rules_compiled_before_without_a_child(
    installed: Path, eicar: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = ClientState(installed)
    sample = tmp_path / "eicar.com"
    sample.write_bytes(eicar)
    assert load_engine(state).scan(sample).detections
    [compiled] = state.compiled_dir.iterdir()
    monkeypatch.setattr(rules, "COMPILER", CRASHING)
    assert load_engine(state).scan(sample).detections
    compiled.write_bytes(b"not compiled rules")  # damaged: compiled again
    monkeypatch.undo()
    assert load_engine(state).scan(sample).detections


def test_an_engine_whose_compiler_crashes_reports_the_patterns_it_lacks(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = ClientState(installed)
    monkeypatch.setattr(rules, "COMPILER", CRASHING)
    engine = load_engine(state)
    assert not engine.has_rules
    assert [(i.path, i.kind, i.detail) for i in engine.load_issues] == [
        (c.value, IssueKind.PATTERN_ERROR, "the process compiling the pattern crashed (signal 6)")
        for c in (Component.VIRUS_PATTERN, Component.SPYWARE_PATTERN)
    ]


def test_a_scan_of_the_data_directory_finds_nothing_in_the_compiled_rules(
    installed: Path, marker: bytes
) -> None:
    """The spyware rule's source spells the marker so that it never matches itself; its
    compiled form holds the marker as it is, so it is kept compressed."""
    state = ClientState(installed)
    engine = load_engine(state)
    [compiled] = state.compiled_dir.iterdir()
    assert marker in zlib.decompress(compiled.read_bytes())
    assert engine.scan(state.root).detections == []
