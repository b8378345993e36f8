"""The client's component health (`client.health`): a pattern that does not compile is a
load failure of its version, scans and detections count per version, and the heartbeat's
entries are what `core.health_report` accepts (bounded, one per current component)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cssec.client.engine import LoadedComponent, ScanEngine, load_components
from cssec.client.health import health_status, note_engine, note_scan, note_scan_start
from cssec.client.state import ClientState, InstalledComponents
from cssec.core.components import COMPONENT_FILENAMES, ComponentVersion, sha256_hex
from cssec.core.health_report import parse_entries
from cssec.core.policy import Component

SEED = (
    Path(__file__).resolve().parents[2] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _install(state: ClientState, broken: bool) -> None:
    current: dict[Component, ComponentVersion] = {}
    for component in Component:
        data = (SEED / COMPONENT_FILENAMES[component]).read_bytes()
        version = 1
        if component is Component.VIRUS_PATTERN:
            version = 2
            data = b"rule broken { condition: }\n" if broken else data
        cv = ComponentVersion(component, version, sha256_hex(data), len(data), NOW)
        state.write_component(cv, data)
        current[component] = cv
    state.save_installed(InstalledComponents(serial=5, updated_at=NOW, current=current))


def _engine(state: ClientState) -> tuple[ScanEngine, dict[Component, LoadedComponent]]:
    components, _notes = load_components(state)
    return ScanEngine.from_components(components), components


def test_a_pattern_that_does_not_load_is_reported_as_its_versions_failure(tmp_path: Path) -> None:
    state = ClientState(tmp_path)
    _install(state, broken=True)
    engine, components = _engine(state)
    note_engine(state, engine, components)
    entries = {e["component"]: e for e in health_status(state, NOW)}
    assert entries["virus_pattern"]["version"] == 2
    assert (entries["virus_pattern"]["loaded"], entries["virus_pattern"]["load_failures"]) == (0, 1)
    assert entries["spyware_pattern"]["loaded"] == 1
    assert len(parse_entries(list(entries.values()))) == len(Component)


def test_scans_and_detections_count_per_version_and_hours_grow(tmp_path: Path) -> None:
    state = ClientState(tmp_path)
    _install(state, broken=False)
    engine, components = _engine(state)
    note_engine(state, engine, components)
    target = tmp_path / "files"
    target.mkdir()
    (target / "eicar.com").write_bytes(EICAR)
    for _ in range(3):
        note_scan(state, engine.scan(target))
    first = {e["component"]: e for e in health_status(state, NOW)}["virus_pattern"]
    assert (first["loaded"], first["scans"], first["hours"]) == (1, 3, 1)
    assert first["detections"] == 3
    later = health_status(state, NOW + timedelta(hours=5, minutes=1))
    assert {e["component"]: e for e in later}["virus_pattern"]["hours"] == 6


def test_a_scan_that_never_finished_counts_as_a_crash(tmp_path: Path) -> None:
    state = ClientState(tmp_path)
    _install(state, broken=False)
    engine, components = _engine(state)
    note_engine(state, engine, components)
    note_scan_start(state)  # the scanner dies here: no note_scan
    note_scan_start(state)
    note_scan(state, engine.scan(tmp_path / "components"), quarantined=2)
    entry = {e["component"]: e for e in health_status(state, NOW)}["scan_engine"]
    assert (entry["crashes"], entry["scans"], entry["quarantines"]) == (1, 1, 2)
    note_scan_start(state)
    note_scan(state, engine.scan(tmp_path / "components"))
    entry = {e["component"]: e for e in health_status(state, NOW)}["scan_engine"]
    assert entry["crashes"] == 1, "a finished scan is no crash"
