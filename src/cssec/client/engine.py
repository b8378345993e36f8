"""The scan engine: YARA rules from the pattern components, applied to files.

It works offline with whatever versions the client holds. A component that fails its
hash check falls back to the previous version; a pattern that does not compile is
reported and the others are still used. Nothing a scanned file can do (vanish, refuse
reading, be a symlink, a FIFO or huge) stops the scan: it is reported and the walk goes on.
Each file is read once into memory (bounded by the engine's max_file_bytes), so the bytes
hashed are exactly the bytes matched.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cssec.client.errors import NoComponents
from cssec.client.rules import NOT_UTF8, PATTERN_ERROR, CompilerFailed, check_pattern, load_rules
from cssec.client.state import ClientState
from cssec.core.components import (
    ScanEngineConfig,
    parse_cleanup_template,
    parse_scan_engine,
    sha256_hex,
    verify_file,
)
from cssec.core.errors import Phrase
from cssec.core.policy import Component

PATTERN_COMPONENTS = (Component.VIRUS_PATTERN, Component.SPYWARE_PATTERN)
MATCH_TIMEOUT_SECONDS = 60
DEFAULT_CONFIG = ScanEngineConfig(
    engine="yara",
    engine_version="1.0.0",
    max_file_bytes=32 * 1024 * 1024,
    pattern_formats=(1,),
    follow_symlinks=False,
)
"""Used only when the scan_engine component is missing or unreadable (and reported)."""


class IssueKind(StrEnum):
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"
    SCAN_FAILED = "scan_failed"
    COMPONENT_ERROR = "component_error"
    PATTERN_ERROR = "pattern_error"
    NO_PATTERNS = "no_patterns"


class SkipReason(StrEnum):
    SYMLINK = "symlink"
    TOO_LARGE = "too_large"
    NOT_REGULAR = "not_regular"


@dataclass(frozen=True)
class Detection:
    path: str
    threat: str
    rule: str
    component: Component
    component_version: int
    sha256: str


@dataclass(frozen=True)
class ScanIssue:
    path: str
    kind: IssueKind
    detail: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: SkipReason


@dataclass
class ScanReport:
    versions: dict[Component, int]
    max_file_bytes: int
    detections: list[Detection] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Not errors: e.g. a damaged component replaced by its previous version."""
    files_scanned: int = 0

    @property
    def exit_code(self) -> int:
        """clamscan's convention: 1 threats found (takes precedence), 2 errors, 0 clean."""
        if self.detections:
            return 1
        return 2 if self.issues else 0


@dataclass(frozen=True)
class LoadedComponent:
    version: int
    data: bytes


def validate_component(component: Component, data: bytes) -> str | Phrase | None:
    """Why a downloaded file cannot serve as `component`, or None when it can. A pattern
    is compiled in a child process (`cssec.client.rules`)."""
    if component is Component.SCAN_ENGINE:
        engine = parse_scan_engine(data)
        return None if engine.ok else f"{engine.error} {engine.detail}".strip()
    if component is Component.DAMAGE_CLEANUP_TEMPLATE:
        template = parse_cleanup_template(data)
        return None if template.ok else f"{template.error} {template.detail}".strip()
    return check_pattern(data)


class ScanEngine:
    """Compiled rules plus the engine settings; build with `from_components` or `load_engine`."""

    def __init__(
        self,
        config: ScanEngineConfig,
        rules: Any,
        versions: dict[Component, int],
        load_issues: list[ScanIssue],
    ) -> None:
        self.config = config
        self._rules = rules
        self.versions = versions
        self.load_issues = load_issues
        self.load_warnings: list[str] = []

    @property
    def has_rules(self) -> bool:
        return self._rules is not None

    @classmethod
    def from_components(
        cls, components: Mapping[Component, LoadedComponent], *, cache_dir: Path | None = None
    ) -> ScanEngine:
        """The engine of `components`; its rules compiled in a child process, or loaded
        from `cache_dir` when compiled there before (`cssec.client.rules`)."""
        issues: list[ScanIssue] = []
        versions = {c: components[c].version for c in Component if c in components}
        config = DEFAULT_CONFIG
        engine = components.get(Component.SCAN_ENGINE)
        parsed = parse_scan_engine(engine.data) if engine else None
        if parsed is not None and parsed.value is not None:
            config = parsed.value
        else:
            detail = f"{parsed.error} {parsed.detail}" if parsed else "missing"
            issues.append(ScanIssue(Component.SCAN_ENGINE.value, IssueKind.COMPONENT_ERROR, detail))
        sources: dict[str, str] = {}
        for component in PATTERN_COMPONENTS:
            loaded = components.get(component)
            if loaded is None:
                issues.append(ScanIssue(component.value, IssueKind.COMPONENT_ERROR, "missing"))
                continue
            try:
                sources[component.value] = loaded.data.decode("utf-8")
            except UnicodeDecodeError:
                issues.append(ScanIssue(component.value, IssueKind.PATTERN_ERROR, NOT_UTF8))
        try:
            compiled = load_rules(sources, cache_dir)
        except CompilerFailed as exc:
            issues.extend(ScanIssue(ns, IssueKind.PATTERN_ERROR, str(exc.reason)) for ns in sources)
            return cls(config, None, versions, issues)
        issues.extend(
            ScanIssue(ns, IssueKind.PATTERN_ERROR, f"{PATTERN_ERROR}: {error}")
            for ns, error in compiled.errors.items()
        )
        return cls(config, compiled.rules, versions, issues)

    def scan(self, target: Path) -> ScanReport:
        report = ScanReport(
            versions=dict(self.versions),
            max_file_bytes=self.config.max_file_bytes,
            issues=list(self.load_issues),
            warnings=list(self.load_warnings),
        )
        if self._rules is None:
            report.issues.append(ScanIssue(str(target), IssueKind.NO_PATTERNS, "no patterns"))
            return report
        for path, st in self._walk(Path(os.path.abspath(target)), report):
            self._scan_file(path, st, report)
        return report

    def _walk(self, root: Path, report: ScanReport) -> Iterator[tuple[Path, os.stat_result]]:
        """Depth first in name order, without recursion (deep trees) and without loops."""
        follow = self.config.follow_symlinks
        seen: set[tuple[int, int]] = set()
        stack = [root]
        while stack:
            path = stack.pop()
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    if not follow:
                        report.skipped.append(Skipped(str(path), SkipReason.SYMLINK))
                        continue
                    st = os.stat(path)
            except FileNotFoundError:
                report.issues.append(ScanIssue(str(path), IssueKind.NOT_FOUND, "not found"))
                continue
            except OSError as exc:
                report.issues.append(ScanIssue(str(path), IssueKind.UNREADABLE, _why(exc)))
                continue
            if stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                try:
                    with os.scandir(path) as entries:
                        names = sorted(entry.name for entry in entries)
                except OSError as exc:
                    report.issues.append(ScanIssue(str(path), IssueKind.UNREADABLE, _why(exc)))
                    continue
                stack.extend(path / name for name in reversed(names))
            elif stat.S_ISREG(st.st_mode):
                yield path, st
            else:
                report.skipped.append(Skipped(str(path), SkipReason.NOT_REGULAR))

    def _read(self, path: Path, report: ScanReport) -> bytes | None:
        limit = self.config.max_file_bytes
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        if not self.config.follow_symlinks:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            report.issues.append(ScanIssue(str(path), IssueKind.UNREADABLE, _why(exc)))
            return None
        with os.fdopen(fd, "rb") as handle:
            try:
                # Checked again on the open file: the path may have changed since lstat.
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    report.skipped.append(Skipped(str(path), SkipReason.NOT_REGULAR))
                    return None
                data = handle.read(limit + 1)
            except OSError as exc:
                report.issues.append(ScanIssue(str(path), IssueKind.UNREADABLE, _why(exc)))
                return None
        if len(data) > limit:
            report.skipped.append(Skipped(str(path), SkipReason.TOO_LARGE))
            return None
        return data

    def _scan_file(self, path: Path, st: os.stat_result, report: ScanReport) -> None:
        if st.st_size > self.config.max_file_bytes:
            report.skipped.append(Skipped(str(path), SkipReason.TOO_LARGE))
            return
        data = self._read(path, report)
        if data is None:
            return
        import yara  # noqa: PLC0415 - loaded with the rules already (`cssec.client.rules`)

        try:
            matches = self._rules.match(data=data, timeout=MATCH_TIMEOUT_SECONDS)
        except yara.Error as exc:
            report.issues.append(ScanIssue(str(path), IssueKind.SCAN_FAILED, str(exc)))
            return
        report.files_scanned += 1
        digest = sha256_hex(data) if matches else ""
        for match in matches:
            threat = match.meta.get("threat")
            component = Component(match.namespace)
            report.detections.append(
                Detection(
                    path=str(path),
                    threat=threat if isinstance(threat, str) and threat else match.rule,
                    rule=match.rule,
                    component=component,
                    component_version=self.versions.get(component, 0),
                    sha256=digest,
                )
            )


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def load_components(state: ClientState) -> tuple[dict[Component, LoadedComponent], list[str]]:
    """The client's components, each checked against its recorded hash.

    A current file that is missing or altered falls back to the previous version, so a
    damaged update never leaves the client without patterns. Returns what loaded and a
    note per fallback or loss.
    """
    installed = state.load_installed()
    loaded: dict[Component, LoadedComponent] = {}
    notes: list[str] = []
    for component in Component:
        candidates = [
            v for v in (installed.current.get(component), installed.previous.get(component)) if v
        ]
        for index, version in enumerate(candidates):
            try:
                data = state.read_component(version)
            except OSError:
                data = None
            if data is not None and verify_file(data, version):
                loaded[component] = LoadedComponent(version.version, data)
                if index:
                    notes.append(f"{component.value}: fell back to version {version.version}")
                break
            notes.append(f"{component.value} version {version.version}: file missing or altered")
    return loaded, notes


def load_engine(state: ClientState) -> ScanEngine:
    components, notes = load_components(state)
    engine = ScanEngine.from_components(components, cache_dir=state.compiled_dir)
    engine.load_warnings.extend(notes)
    return engine


def ready_engine(state: ClientState) -> tuple[ScanEngine, dict[Component, LoadedComponent]]:
    """The engine and the components it came from; NoComponents when it has no pattern."""
    components, notes = load_components(state)
    engine = ScanEngine.from_components(components, cache_dir=state.compiled_dir)
    engine.load_warnings.extend(notes)
    if state.is_installed():
        from cssec.client.health import note_engine  # noqa: PLC0415

        note_engine(state, engine, components)  # the vendor's rollouts hear of failures
    if not any(c in components for c in PATTERN_COMPONENTS) or not engine.has_rules:
        problems = notes + [f"{i.path}: {i.detail}" for i in engine.load_issues]
        none = Phrase("コンポーネントをまだ取得していません", "no components installed")
        raise NoComponents(reason="; ".join(problems) if components else none, dir=str(state.root))
    return engine, components


def scan_targets(engine: ScanEngine, targets: list[Path]) -> ScanReport:
    """One report over several files or folders."""
    merged = ScanReport(versions=dict(engine.versions), max_file_bytes=engine.config.max_file_bytes)
    merged.issues.extend(engine.load_issues)
    merged.warnings.extend(engine.load_warnings)
    for target in targets:
        report = engine.scan(target)
        merged.detections.extend(report.detections)
        merged.issues.extend(i for i in report.issues if i not in merged.issues)
        merged.skipped.extend(report.skipped)
        merged.files_scanned += report.files_scanned
    return merged
