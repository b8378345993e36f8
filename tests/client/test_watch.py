"""Real-time scan: the Watcher without the OS (a fake monotonic clock), the service against
the agent peer, and one run with a real watchdog observer on a temporary folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cssec.client.agent import AgentClient
from cssec.client.engine import LoadedComponent, ScanEngine
from cssec.client.install import agent_for
from cssec.client.messages import text
from cssec.client.outbreak import OutbreakPolicy, PolicyAction, load_violations
from cssec.client.state import ClientState
from cssec.client.watch import Watcher, WatchService
from cssec.core.clock import FakeClock, SystemClock
from cssec.core.policy import Component

Peer = Any  # conftest.AgentPeer
Cli = Any  # conftest.Cli
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Ticker:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Notes:
    """Collects what the watcher says, rendered in both languages."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.ja: list[str] = []
        self.en: list[str] = []

    def __call__(self, key: str, *, err: bool = False, **values: object) -> None:
        self.keys.append(key)
        self.ja.append(text(key, "ja", **values))
        self.en.append(text(key, "en", **values))


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for a real OS event to have its effect: bounded, checking every 50 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the condition"
        time.sleep(0.05)


@pytest.fixture
def engine(seed: dict[Component, bytes]) -> ScanEngine:
    return ScanEngine.from_components({c: LoadedComponent(1, d) for c, d in seed.items()})


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    folder = tmp_path / "watched"
    folder.mkdir()
    return folder


def make_watcher(
    state: ClientState, engine: ScanEngine, ticker: Ticker, notes: Notes
) -> tuple[Watcher, list[tuple[list[Any], list[Path]]]]:
    reports: list[tuple[list[Any], list[Path]]] = []
    watcher = Watcher(
        state,
        engine,
        report=lambda detections, scanned: reports.append((detections, scanned)),
        clock=FakeClock(NOW),
        monotonic=ticker,
        debounce=0.5,
        notify=notes,
    )
    return watcher, reports


def test_events_are_coalesced_and_the_settled_file_scanned_once(
    tmp_path: Path, watched: Path, engine: ScanEngine, eicar: bytes
) -> None:
    state = ClientState(tmp_path / "client")
    ticker, notes = Ticker(), Notes()
    watcher, reports = make_watcher(state, engine, ticker, notes)
    watcher.configure(enabled=True, folders=(watched,), policy=None)

    sample = watched / "sub" / "eicar.com"
    sample.parent.mkdir()
    sample.write_bytes(eicar[:20])  # written in two chunks: created, then modified
    watcher.handle_path(sample)
    ticker.now += 0.3
    sample.write_bytes(eicar)
    watcher.handle_path(sample)
    ticker.now += 0.3
    assert watcher.settle() == []  # still being written (0.3 s since the last event)
    assert watcher.pending == 1
    ticker.now += 0.3
    [detection] = watcher.settle()
    assert (detection.path, detection.threat) == (str(sample), "Eicar_test_file")
    assert reports == [([detection], [sample])]
    assert "watch.detected" in notes.keys
    assert any("リアルタイム検索" in line for line in notes.ja)
    assert watcher.settle() == []
    assert len(reports) == 1

    watcher.handle_path(tmp_path / "elsewhere.com")  # not a watched folder
    watcher.handle_path(state.root / "quarantine" / "x")  # the client's own files
    assert watcher.pending == 0


def test_a_switched_off_watcher_ignores_events(
    tmp_path: Path, watched: Path, engine: ScanEngine, eicar: bytes
) -> None:
    state = ClientState(tmp_path / "client")
    ticker, notes = Ticker(), Notes()
    watcher, reports = make_watcher(state, engine, ticker, notes)
    watcher.configure(enabled=True, folders=(watched,), policy=None)
    (watched / "eicar.com").write_bytes(eicar)
    watcher.handle_path(watched / "eicar.com")
    watcher.configure(enabled=False, folders=(watched,), policy=None)  # pending dropped
    watcher.handle_path(watched / "eicar.com")
    ticker.now += 10
    assert watcher.settle() == []
    assert reports == []


def test_writes_into_a_denied_share_are_logged_once_per_burst(
    tmp_path: Path, watched: Path, engine: ScanEngine
) -> None:
    state = ClientState(tmp_path / "client")
    ticker, notes = Ticker(), Notes()
    watcher, _ = make_watcher(state, engine, ticker, notes)
    share = watched / "share"
    share.mkdir()
    policy = OutbreakPolicy(7, PolicyAction.DEPLOY, (str(share),), (445,), ("*.exe",), NOW)
    watcher.configure(enabled=False, folders=(watched,), policy=policy)  # even when idle
    for _ in range(3):
        watcher.handle_path(share / "dropped.txt")
    watcher.handle_path(watched / "tool.exe")
    watcher.handle_path(watched / "fine.txt")
    ticker.now += 1
    watcher.settle()
    total, entries = load_violations(state)
    assert total == 2
    assert {(e["path"], e["rule"], e["policy_id"]) for e in entries} == {
        (str(share / "dropped.txt"), f"share {share}", 7),
        (str(watched / "tool.exe"), "file *.exe", 7),
    }
    assert notes.keys.count("watch.violation") == 2
    assert any("大規模感染予防ポリシー違反" in line for line in notes.ja)

    released = OutbreakPolicy(7, PolicyAction.RELEASE, (str(share),), (), (), NOW)
    watcher.configure(enabled=False, folders=(watched,), policy=released)
    watcher.handle_path(share / "after-release.txt")
    ticker.now += 1
    watcher.settle()
    assert load_violations(state)[0] == 2


def service_for(
    state: ClientState, agent: AgentClient, folders: list[Path], notes: Notes, **kw: Any
) -> WatchService:
    return WatchService(
        state, agent, own_folders=folders, clock=FakeClock(NOW), lang="en", notify=notes, **kw
    )


def test_server_switch_off_idles_and_on_resumes(
    agent_server: Peer, installed: Path, watched: Path, tmp_path: Path, eicar: bytes
) -> None:
    state = ClientState(installed)
    share = tmp_path / "share"
    share.mkdir()
    agent_server.realtime_scan = False
    agent_server.deploy_policy(2, deny_write_shares=[str(share)])
    ticker, notes = Ticker(), Notes()
    with agent_for(state.load_config(), lang="en") as agent:
        service = service_for(state, agent, [watched], notes, monotonic=ticker)
        service.start()
        try:
            assert not service.watcher.enabled
            assert service.observed == {share}  # only what the policy needs watched
            assert notes.keys[-1] == "watch.off"
            assert "Not scanning" in notes.en[-1]
            assert "無効" in notes.ja[-1]
            (watched / "eicar.com").write_bytes(eicar)
            service.watcher.handle_path(watched / "eicar.com")
            ticker.now += 5
            assert service.watcher.settle() == []
            assert agent_server.virus_logs == []

            agent_server.realtime_scan = True
            service.heartbeat()
            assert service.watcher.enabled
            assert service.observed == {share, watched}
            assert notes.keys[-1] == "watch.on"
            assert str(watched) in notes.en[-1]
            assert agent_server.heartbeats[-1]["status"]["realtime_scan_running"] is False
            service.heartbeat()
            assert agent_server.heartbeats[-1]["status"]["realtime_scan_running"] is True
        finally:
            service.close()


def test_the_servers_folders_replace_the_clients(
    agent_server: Peer, installed: Path, watched: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    agent_server.realtime_folders = [str(theirs), str(tmp_path / "missing")]
    notes = Notes()
    state = ClientState(installed)
    with agent_for(state.load_config(), lang="en") as agent:
        service = service_for(state, agent, [watched], notes)
        service.heartbeat()
    assert service.watcher.folders == (theirs, tmp_path / "missing")
    assert service.observed == {theirs}
    assert "watch.missing_folder" in notes.keys


def test_offline_watch_scans_and_queues_the_report(
    installed: Path, watched: Path, unused_url: str, eicar: bytes
) -> None:
    state = ClientState(installed)
    ticker, notes = Ticker(), Notes()
    with AgentClient(unused_url, token="t", lang="en") as agent:
        service = service_for(state, agent, [watched], notes, monotonic=ticker)
        service.heartbeat()
        assert "watch.heartbeat_failed" in notes.keys
        assert service.watcher.enabled  # never told otherwise: on
        (watched / "eicar.com").write_bytes(eicar)
        service.watcher.handle_path(watched / "eicar.com")
        ticker.now += 1
        assert len(service.watcher.settle()) == 1
    [queued] = state.load_outbox()
    assert queued["endpoint"] == "virus-log"
    assert queued["body"]["scan_type"] == "realtime"
    assert "scan.queued" in notes.keys


def test_real_watchdog_reports_a_new_eicar_file_as_realtime(
    agent_server: Peer, installed: Path, watched: Path, eicar: bytes, cli: Cli
) -> None:
    state = ClientState(installed)
    errors: list[BaseException] = []
    stop = threading.Event()
    with agent_for(state.load_config(), lang="en") as agent:
        service = WatchService(
            state,
            agent,
            own_folders=[watched],
            clock=SystemClock(),
            lang="en",
            debounce=0.1,
            tick=0.02,
        )

        def run() -> None:
            try:
                service.run(stop)
            except BaseException as exc:  # handed to the test thread
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            wait_for(
                lambda: (
                    errors
                    or (
                        service.observer.is_alive()
                        and service.observed == {watched}
                        and all(e.is_alive() for e in service.observer.emitters)
                    )
                )
            )
            assert not errors
            (watched / "new.com").write_bytes(eicar)
            wait_for(lambda: errors or agent_server.virus_logs)
        finally:
            stop.set()
            thread.join(timeout=5)
    assert not errors
    assert not thread.is_alive()
    [log] = agent_server.virus_logs
    assert log["scan_type"] == "realtime"
    [entry] = log["detections"]
    assert (entry["path"], entry["threat"], entry["action"]) == (
        str(watched / "new.com"),
        "Eicar_test_file",
        "report",
    )
    status = cli("status", "--dir", str(installed), "--json").stdout
    assert '"detections_not_cleaned": 1' in status


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_watch_without_folders_says_what_to_do(installed: Path, cli: Cli, lang: str) -> None:
    result = cli("watch", "--dir", str(installed), lang=lang)
    assert result.exit_code == 2
    expected = "監視するフォルダがありません" if lang == "ja" else "There is no folder"
    assert expected in result.stderr
    assert "--path" in result.stderr
