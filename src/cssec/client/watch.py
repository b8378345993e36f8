"""Real-time scan (`cssec client watch`): scan files as they are created or changed.

`Watcher` decides what a file event means, without the OS: `handle_path` notes a write
(thread-safe; the watchdog observer's thread calls it), and `settle` scans each file once
its events have stopped for `debounce` seconds, so a file written in many chunks is
scanned once, complete. Time comes from an injected monotonic function, so tests move it
instead of sleeping. Detections are reported like ScanNow, with scan_type "realtime"
(queued when the server is unreachable), and remembered for `clean`; nothing is cleaned
automatically. Each file scanned counts in the component health (`client.health`) as
ScanNow's scans do.

`WatchService` wires a watchdog `Observer` to a `Watcher` and heartbeats every
`interval` seconds to learn the administrator's switch and folders. When the server
turns real-time scan off it stops observing those folders and stays running, idle, until
it is turned on again. Offline it keeps the last known settings (on, when never told).
Writes into the shares and files a deployed outbreak prevention policy denies are logged
as violations (see cssec.client.outbreak: logged and shown, not blocked).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from cssec.client.agent import AgentClient
from cssec.client.cleanup import remember_detections
from cssec.client.engine import Detection, IssueKind, ScanEngine, ScanReport, ready_engine
from cssec.client.errors import NoWatchFolders
from cssec.client.health import note_scan_start, note_scans
from cssec.client.heartbeat import DEFAULT_INTERVAL, ServerSettings, load_settings, send_heartbeat
from cssec.client.outbreak import OutbreakPolicy, load_policy, log_violation
from cssec.client.reports import send_or_queue
from cssec.client.scanner import virus_log_body
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.errors import CssecError

DEFAULT_DEBOUNCE = 0.5
TICK = 0.1
WRITE_EVENTS = frozenset(
    {EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED, EVENT_TYPE_CLOSED}
)


class Notify(Protocol):
    def __call__(self, key: str, *, err: bool = False, **values: object) -> None: ...


def _quiet(key: str, *, err: bool = False, **values: object) -> None:
    return None


Report = Callable[[list[Detection], list[Path]], None]


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class Watcher:
    def __init__(
        self,
        state: ClientState,
        engine: ScanEngine,
        *,
        report: Report,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        debounce: float = DEFAULT_DEBOUNCE,
        notify: Notify = _quiet,
    ) -> None:
        self.state = state
        self.engine = engine
        self.report = report
        self.clock = clock
        self.monotonic = monotonic
        self.debounce = debounce
        self.notify = notify
        self.enabled = True
        self.folders: tuple[Path, ...] = ()
        self.policy: OutbreakPolicy | None = None
        self._own = Path(os.path.abspath(state.root))
        self._lock = threading.Lock()
        self._pending: dict[Path, float] = {}
        self._violations: dict[Path, tuple[str, float]] = {}

    def configure(
        self, *, enabled: bool, folders: tuple[Path, ...], policy: OutbreakPolicy | None
    ) -> None:
        with self._lock:
            self.enabled = enabled
            self.folders = tuple(Path(os.path.abspath(f)) for f in folders)
            self.policy = policy if policy is not None and policy.deployed else None
            if not enabled:
                self._pending.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._violations)

    def handle_path(self, path: str | os.PathLike[str]) -> None:
        """A file was created, changed or moved here: note it (scanned once it settles)."""
        target = Path(os.path.abspath(path))
        if _under(target, (self._own,)):
            return  # the client's own files (quarantine, state) are never scanned
        now = self.monotonic()
        with self._lock:
            rule = self.policy.violation(target) if self.policy is not None else None
            if rule is not None:
                self._violations[target] = (rule, now)
            if self.enabled and _under(target, self.folders):
                self._pending[target] = now

    def _take_due(self) -> tuple[list[Path], list[tuple[Path, str]]]:
        now = self.monotonic()
        with self._lock:
            due = sorted(p for p, at in self._pending.items() if now - at >= self.debounce)
            for path in due:
                del self._pending[path]
            broken = sorted(
                (p, rule) for p, (rule, at) in self._violations.items() if now - at >= self.debounce
            )
            for path, _ in broken:
                del self._violations[path]
            policy_id = self.policy.id if self.policy else None
        if policy_id is None:
            broken = []
        elif broken:
            with self.state.lock():
                for path, rule in broken:
                    log_violation(self.state, str(path), rule, policy_id, clock=self.clock)
        return due, broken

    def settle(self) -> list[Detection]:
        """Scan the files whose events have settled; returns what was found."""
        due, broken = self._take_due()
        for path, rule in broken:
            self.notify("watch.violation", err=True, path=str(path), rule=rule)
        detections: list[Detection] = []
        scanned: list[Path] = []
        reports: list[ScanReport] = []
        counted = bool(due) and self.state.is_installed()
        run = note_scan_start(self.state, kind="realtime") if counted else None
        with run or nullcontext():
            for path in due:
                if not self.enabled:
                    break
                report = self.engine.scan(path)
                reports.append(report)
                scanned.append(path)
                for issue in report.issues:
                    if issue.kind is not IssueKind.NOT_FOUND and issue.path == str(path):
                        self.notify("scan.issue", err=True, path=issue.path, detail=issue.detail)
                detections.extend(report.detections)
        if counted:  # the vendor's staged rollouts hear of real-time scans too
            note_scans(self.state, reports)
        for detection in detections:
            self.notify(
                "watch.detected",
                path=detection.path,
                threat=detection.threat,
                version=detection.component_version,
            )
        if scanned:
            self.report(detections, scanned)
        return detections


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        super().__init__()
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in WRITE_EVENTS:
            return
        path = event.dest_path if event.event_type == EVENT_TYPE_MOVED else event.src_path
        self.watcher.handle_path(os.fsdecode(path))


class WatchService:
    """The observer, the watcher and the heartbeat loop of `cssec client watch`."""

    def __init__(
        self,
        state: ClientState,
        agent: AgentClient | None,
        *,
        own_folders: list[Path],
        clock: Clock,
        lang: str,
        interval: float = DEFAULT_INTERVAL,
        debounce: float = DEFAULT_DEBOUNCE,
        tick: float = TICK,
        monotonic: Callable[[], float] = time.monotonic,
        observer: BaseObserver | None = None,
        notify: Notify = _quiet,
    ) -> None:
        self.state = state
        self.agent = agent
        self.own_folders = tuple(Path(os.path.abspath(f)) for f in own_folders)
        self.clock = clock
        self.lang = lang
        self.interval = interval
        self.tick = tick
        self.monotonic = monotonic
        self.notify = notify
        engine, _ = ready_engine(state)  # NoComponents: nothing to scan with
        self._engine_stamp = self._components_stamp()
        self.watcher = Watcher(
            state,
            engine,
            report=self._report,
            clock=clock,
            monotonic=monotonic,
            debounce=debounce,
            notify=notify,
        )
        self.observer = observer if observer is not None else Observer()
        self._handler = _Handler(self.watcher)
        self._observed: set[Path] = set()
        self._announced: bool | None = None
        self._started = False

    # --- settings -----------------------------------------------------------------

    def heartbeat(self) -> ServerSettings | None:
        """Ask the server; on failure keep the last known settings. Returns what applies."""
        settings = load_settings(self.state)
        if self.agent is not None:
            try:
                outcome = send_heartbeat(
                    self.state,
                    self.agent,
                    clock=self.clock,
                    lang=self.lang,
                    realtime_running=self.watcher.enabled and bool(self._observed),
                )
            except CssecError as exc:
                self.notify("watch.heartbeat_failed", err=True, message=exc.message(self.lang))
            else:
                settings = outcome.settings
                change = outcome.policy
                if change is not None and change.changed:
                    key = "watch.policy_" + change.recorded.policy.action.value
                    self.notify(key, id=change.recorded.policy.id)
                for cleanup in outcome.cleanups:
                    self.notify(
                        "watch.cleanup_ran", id=cleanup.request_id, count=len(cleanup.actions)
                    )
        self.apply(settings)
        return settings

    def folders_for(self, settings: ServerSettings | None) -> tuple[Path, ...]:
        if settings is not None and settings.realtime_folders is not None:
            return tuple(Path(os.path.abspath(f)) for f in settings.realtime_folders)
        return self.own_folders

    def apply(self, settings: ServerSettings | None) -> None:
        enabled = settings.realtime_scan if settings is not None else True
        folders = self.folders_for(settings)
        recorded = load_policy(self.state)
        policy = recorded.policy if recorded is not None else None
        self.watcher.configure(enabled=enabled, folders=folders, policy=policy)
        wanted = set(folders if enabled else ()) | set(
            policy.watch_dirs() if policy is not None else ()
        )
        self._observe(wanted)  # before saying so: "running" means the folders are observed
        if enabled and not folders:
            self._announced = None  # nothing runs; say "running" once folders arrive
            if self._started:  # at start, start() raises NoWatchFolders instead
                message = NoWatchFolders().message(self.lang)
                self.notify("watch.no_folders", err=True, message=message)
        elif enabled != self._announced:
            if enabled:
                self.notify("watch.on", folders=", ".join(map(str, folders)))
            else:
                self.notify("watch.off")
            self._announced = enabled

    def _observe(self, wanted: set[Path]) -> None:
        if wanted == self._observed:
            return
        self.observer.unschedule_all()
        observed = set()
        for folder in sorted(wanted):
            if folder.is_dir():
                self.observer.schedule(self._handler, str(folder), recursive=True)
                observed.add(folder)
            else:
                self.notify("watch.missing_folder", err=True, path=str(folder))
        self._observed = wanted if observed == wanted else observed

    @property
    def observed(self) -> set[Path]:
        return set(self._observed)

    # --- scanning and reporting ---------------------------------------------------

    def _components_stamp(self) -> int | None:
        try:
            return self.state.current_file.stat().st_mtime_ns
        except OSError:
            return None

    def reload_engine_if_updated(self) -> None:
        """Pick up components a `cssec client update` installed meanwhile."""
        stamp = self._components_stamp()
        if stamp == self._engine_stamp:
            return
        self._engine_stamp = stamp
        try:
            self.watcher.engine, _ = ready_engine(self.state)
        except CssecError as exc:
            self.notify("watch.reload_failed", err=True, message=exc.message(self.lang))

    def _report(self, detections: list[Detection], scanned: list[Path]) -> None:
        with self.state.lock():
            remember_detections(
                self.state,
                scanned=scanned,
                detections=detections,
                actions={},
                scan_type="realtime",
                clock=self.clock,
            )
        if not detections or self.agent is None:
            return
        body = virus_log_body("realtime", detections, {})
        with self.state.lock():
            delivery, error = send_or_queue(
                self.state, self.agent, "virus-log", body, clock=self.clock
            )
        if delivery == "sent":
            self.notify("scan.reported")
        elif delivery == "queued":
            self.notify("scan.queued", err=True)
        elif error is not None:
            self.notify("scan.not_reported", err=True, message=error.message(self.lang))

    # --- the loop -----------------------------------------------------------------

    def start(self) -> None:
        """Start observing, then the first heartbeat says what. NoWatchFolders when on and
        there is nothing to watch."""
        self.observer.start()
        settings = self.heartbeat()
        enabled = settings.realtime_scan if settings is not None else True
        if enabled and not self.folders_for(settings):
            self.close()
            raise NoWatchFolders()
        self._started = True

    def loop(self, stop: threading.Event) -> None:
        next_heartbeat = self.monotonic() + self.interval
        while not stop.wait(self.tick):
            self.watcher.settle()
            if self.monotonic() >= next_heartbeat:
                self.reload_engine_if_updated()
                self.heartbeat()
                next_heartbeat = self.monotonic() + self.interval

    def close(self) -> None:
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            self.loop(stop)
        finally:
            self.close()
