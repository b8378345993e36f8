"""The client's component health (`client.health`): a pattern that does not compile is a
load failure of its version, scans and detections count per version, and the heartbeat's
entries are what `core.health_report` accepts (bounded, one per current component). The
real-time scan (`cssec client watch`) counts the same way, through the real watcher and
agent peer."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cssec.client.agent import AgentClient
from cssec.client.engine import Detection, LoadedComponent, ScanEngine, ScanReport, load_components
from cssec.client.health import DOC, health_status, note_engine, note_scan, note_scan_start
from cssec.client.install import agent_for
from cssec.client.scanner import scan_now
from cssec.client.state import ClientState, InstalledComponents
from cssec.client.watch import WatchService
from cssec.core.clock import FakeClock
from cssec.core.components import COMPONENT_FILENAMES, ComponentVersion, sha256_hex
from cssec.core.health_report import MAX_COUNT, parse_entries
from cssec.core.policy import Component

Peer = Any  # conftest.AgentPeer
Cli = Any  # conftest.Cli

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


# A ScanNow in a process of its own, held in the middle of its scan until told to go on.
HELD_SCAN = """
import sys
from pathlib import Path
from cssec.client.engine import ScanEngine
from cssec.client.scanner import scan_now
from cssec.client.state import ClientState
from cssec.core.clock import SystemClock

scan = ScanEngine.scan

def held(self, target):
    print("scanning", flush=True)
    sys.stdin.readline()
    return scan(self, target)

ScanEngine.scan = held
scan_now(ClientState(Path(sys.argv[1])), Path(sys.argv[2]), clock=SystemClock(), lang="en")
"""


class HeldScan:
    """`cssec client scan` in another process, stopped in the middle of its scan."""

    def __init__(self, installed: Path, target: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HELD_SCAN, str(installed), str(target)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == "scanning\n"

    def finish(self) -> None:
        assert self.process.stdin is not None
        self.process.communicate("go on\n", timeout=60)
        assert self.process.returncode == 0

    def crash(self) -> None:
        self.process.kill()  # SIGKILL: nothing of it runs any more
        self.process.communicate(timeout=60)


def _crashes(state: ClientState) -> int:
    return int({e["component"]: e for e in health_status(state, NOW)}["virus_pattern"]["crashes"])


def test_a_scan_that_never_finished_counts_as_a_crash_once(installed: Path, tmp_path: Path) -> None:
    state = ClientState(installed)
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")
    HeldScan(installed, tmp_path).crash()
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")
    assert _crashes(state) == 1
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")
    assert _crashes(state) == 1, "a finished scan is no crash, and a crash counts once"


def test_scan_nows_at_the_same_moment_are_no_crash_and_a_crash_of_either_counts_once(
    installed: Path, tmp_path: Path
) -> None:
    state = ClientState(installed)
    first = HeldScan(installed, tmp_path)
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")  # while the first scans
    second = HeldScan(installed, tmp_path)
    assert _crashes(state) == 0
    first.finish()
    assert _crashes(state) == 0
    third = HeldScan(installed, tmp_path)
    second.crash()
    third.finish()
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")
    scan_now(state, tmp_path, clock=FakeClock(NOW), lang="en")
    assert _crashes(state) == 1
    entry = {e["component"]: e for e in health_status(state, NOW)}["virus_pattern"]
    assert entry["scans"] == 5  # the crashed one never finished its scan


# --- real-time scan (`cssec client watch`) counts as ScanNow does ---------------------------

QUARANTINE_EICAR = json.dumps({
    "format": 1,
    "rules": [{"threat": "Eicar_test_file", "action": "quarantine"}],
    "default_action": "quarantine",
}).encode()  # fmt: skip


class Ticker:
    """The watcher's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _watching(state: ClientState, folder: Path, agent: AgentClient | None) -> WatchService:
    service = WatchService(
        state, agent, own_folders=[folder], clock=FakeClock(NOW), lang="en", monotonic=Ticker()
    )
    service.watcher.configure(enabled=True, folders=(folder,), policy=None)
    return service


def _settle(service: WatchService, *paths: Path) -> list[Detection]:
    for path in paths:
        service.watcher.handle_path(path)
    ticker = service.watcher.monotonic
    assert isinstance(ticker, Ticker)
    ticker.now += 1
    return service.watcher.settle()


def _sent(peer: Peer) -> dict[str, dict[str, Any]]:
    """What the last heartbeat told the server, per component."""
    health = peer.heartbeats[-1]["status"]["component_health"]
    assert len(parse_entries(health)) == len(health)  # what the server accepts
    return {e["component"]: e for e in health}


def test_a_real_time_scan_with_a_pattern_that_does_not_compile_reports_its_load_failure(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes
) -> None:
    state = ClientState(installed)
    _install(state, broken=True)  # virus pattern 2 passed the update, fails in this engine
    folder = tmp_path / "watched"
    folder.mkdir()
    with agent_for(state.load_config(), lang="en") as agent:
        service = _watching(state, folder, agent)
        (folder / "eicar.com").write_bytes(eicar)
        assert _settle(service, folder / "eicar.com") == []  # nothing left to find it with
        service.heartbeat()
    sent = _sent(agent_server)
    virus = sent["virus_pattern"]
    assert (virus["version"], virus["loaded"], virus["load_failures"]) == (2, 0, 1)
    assert virus["detections"] == 0
    spyware = sent["spyware_pattern"]
    assert (spyware["loaded"], spyware["scans"], spyware["scan_errors"]) == (1, 1, 0)


def test_a_damaged_pattern_fails_to_load_and_the_previous_versions_work_is_not_its_own(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, cli: Cli, seed_dir: Path
) -> None:
    pattern = (seed_dir / COMPONENT_FILENAMES[Component.VIRUS_PATTERN]).read_bytes()
    published = agent_server.publish(Component.VIRUS_PATTERN, pattern + b"\n// v2\n")
    result = cli("update", "--dir", str(installed))
    assert result.exit_code == 0, result.output
    state = ClientState(installed)
    state.component_path(published).write_bytes(b"damaged on disk")
    folder = tmp_path / "watched"
    folder.mkdir()
    with agent_for(state.load_config(), lang="en") as agent:
        service = _watching(state, folder, agent)
        (folder / "eicar.com").write_bytes(eicar)
        [found] = _settle(service, folder / "eicar.com")
        assert found.component_version == 1  # the previous version scans meanwhile
        service.heartbeat()
    virus = _sent(agent_server)["virus_pattern"]
    assert (virus["version"], virus["loaded"], virus["load_failures"]) == (2, 0, 1)
    assert (virus["scans"], virus["detections"]) == (0, 0), "version 2 scanned nothing"


def test_real_time_detections_and_their_quarantine_by_clean_count(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, cli: Cli
) -> None:
    agent_server.publish(Component.DAMAGE_CLEANUP_TEMPLATE, QUARANTINE_EICAR)
    assert cli("update", "--dir", str(installed)).exit_code == 0
    folder = tmp_path / "watched"
    folder.mkdir()
    state = ClientState(installed)
    with agent_for(state.load_config(), lang="en") as agent:
        service = _watching(state, folder, agent)
        (folder / "eicar.com").write_bytes(eicar)
        (folder / "notes.txt").write_text("fine")
        (folder / "gone.tmp").write_text("short-lived")
        assert len(_settle(service, folder / "eicar.com", folder / "notes.txt")) == 1
        service.watcher.handle_path(folder / "gone.tmp")
        (folder / "gone.tmp").unlink()  # deleted before it was scanned: no scan error
        assert _settle(service) == []
        service.heartbeat()
        found = _sent(agent_server)["virus_pattern"]
        assert (found["version"], found["scans"], found["detections"]) == (1, 3, 1)
        assert (found["scan_errors"], found["quarantines"], found["crashes"]) == (0, 0, 0)

        result = cli("clean", "--dir", str(installed))  # the real-time detections
        assert result.exit_code == 0, result.output
        assert not (folder / "eicar.com").exists()
        service.heartbeat()
    cleaned = _sent(agent_server)["virus_pattern"]
    assert (cleaned["scans"], cleaned["detections"], cleaned["quarantines"]) == (3, 1, 1)
    template = _sent(agent_server)["damage_cleanup_template"]
    assert template["version"] == 2


def test_a_real_time_scanner_that_died_counts_a_crash_and_a_scan_now_beside_it_does_not(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes
) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    state = ClientState(installed)
    service = _watching(state, folder, None)

    class Dying:
        versions = service.watcher.engine.versions

        def scan(self, target: Path) -> ScanReport:
            raise MemoryError  # the scanner dies in the middle of a file

    healthy, service.watcher.engine = service.watcher.engine, Dying()  # type: ignore[assignment]
    with pytest.raises(MemoryError):
        _settle(service, folder / "a.txt")
    restarted = _watching(state, folder, None)
    with note_scan_start(state):  # meanwhile a ScanNow runs (its marker is its own)
        assert restarted.watcher.engine.versions == healthy.versions
        _settle(restarted, folder / "a.txt")
        _settle(restarted, folder / "a.txt")
    entry = {e["component"]: e for e in health_status(state, NOW)}["virus_pattern"]
    assert (entry["crashes"], entry["scans"]) == (1, 2)


def test_real_time_counts_stay_within_what_the_server_accepts(
    installed: Path, tmp_path: Path, eicar: bytes
) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    state = ClientState(installed)
    service = _watching(state, folder, None)
    doc = state.load_doc(DOC)
    assert doc is not None
    for entry in doc["entries"].values():
        entry.update(scans=MAX_COUNT, detections=MAX_COUNT - 1, scan_errors=MAX_COUNT)
    state.save_doc(DOC, {"entries": doc["entries"]})
    for name in ("a.com", "b.com"):
        (folder / name).write_bytes(eicar)
    assert len(_settle(service, folder / "a.com", folder / "b.com")) == 2
    entries = health_status(state, NOW)
    assert len(parse_entries(entries)) == len(Component)
    virus = {e["component"]: e for e in entries}["virus_pattern"]
    assert (virus["scans"], virus["detections"]) == (MAX_COUNT, MAX_COUNT)
