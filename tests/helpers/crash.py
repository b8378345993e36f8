"""Crash an operation at every step, restart, and judge what the restart finds.

For an operation (cssec CLI arguments on a data directory) and a snapshot of the data
directory before it:
1. one clean run on a copy counts its steps (tests/faults/crashpoint.py) and gives the
   *after* state; the snapshot's own state is the *before* state;
2. for every step N: a fresh copy, the operation killed by SIGKILL at step N, then a
   restart: the normal code reads the state, which must be exactly *before* or *after*
   (or another state the test names as legitimate), never a mix;
3. on the same copy, the operation once more, not killed: it must succeed and settle on
   what a clean run settles on (the data directory is usable, nothing was lost).

Step 3 runs at every *distinct* crash point: the first step, every step right after a
durable change (a commit, a file-system change), every step that is a commit (all of the
transaction's statements done) and the last step. Killing before any other step (a read,
a statement inside an open transaction) leaves the same bytes on disk as killing before
the step that follows the previous durable change, whose retry is run. Step 2 runs at
every step. A run whose steps differ from the counted run's is reported, since then
"every step" would not be what was covered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.faults import KILLED, Pool, copy_dir

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults"


@dataclass
class Outcome:
    n: int
    step: str
    returncode: int
    label: str
    retry_returncode: int | None = None
    settled_ok: bool | None = None
    state: Any = None
    settled: Any = None
    retry_stderr: str = ""
    diverged: bool = False


@dataclass
class CrashReport:
    name: str
    steps: list[tuple[int, str, str]]
    before: Any
    after: Any
    outcomes: list[Outcome] = field(default_factory=list)

    def labels(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.label] = counts.get(outcome.label, 0) + 1
        return counts

    def problems(self) -> list[str]:
        """Every way a crash point broke the promise, one line each (empty when none)."""
        found = []
        for o in self.outcomes:
            where = f"{self.name}: crash at step {o.n} ({o.step})"
            if o.returncode != KILLED:
                found.append(f"{where}: not killed, exit {o.returncode}")
            if o.label == "mixed":
                found.append(f"{where}: restart found a mix: {json.dumps(o.state, default=str)}")
            if o.diverged:
                found.append(f"{where}: its steps differ from the counted run's")
            if o.retry_returncode is None:
                continue
            if o.retry_returncode != 0:
                found.append(f"{where}: the next run failed ({o.retry_stderr.strip()[-300:]})")
            elif not o.settled_ok:
                found.append(f"{where}: the next run settled on {o.settled}")
        return found

    def retried(self) -> list[int]:
        return [o.n for o in self.outcomes if o.retry_returncode is not None]

    def save(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        body = {
            "name": self.name,
            "steps": [f"{i} {kind} {detail[:120]}" for i, kind, detail in self.steps],
            "labels": self.labels(),
            "retried": self.retried(),
            "outcomes": [
                {k: v for k, v in asdict(o).items() if k not in {"state", "settled"}}
                for o in self.outcomes
            ],
        }
        path = ARTIFACTS / f"{self.name}.json"
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str))


DURABLE = ("db:commit", "db:committed", "fs:")


def distinct_points(steps: list[tuple[int, str, str]]) -> set[int]:
    """The crash points that leave distinct bytes on disk (see the module docstring)."""
    points = {1, len(steps)}
    for index, kind, _detail in steps:
        if kind == "db:commit":
            points.add(index)
        if kind.startswith(DURABLE) and index < len(steps):
            points.add(index + 1)
    return points


def crash_everywhere(
    pool: Pool,
    *,
    name: str,
    snapshot: Path,
    workdir: Path,
    args: Callable[[Path], list[str]],
    state: Callable[[Path], Any],
    settled: Callable[[Path], Any],
    env: dict[str, str] | None = None,
    legitimate: Callable[[Any, Any], dict[str, Any]] | None = None,
) -> CrashReport:
    """Crash `args(copy)` at each of its steps; see the module docstring.

    `state` is what must be before/after exactly; `settled` is what a retry must reach
    (for a retry after a crash that left *before*, what a clean run reaches; after one that
    left *after*, what a second clean run reaches). `legitimate` names further states a
    restart may find, built from (before, after): e.g. a sub-step that is itself complete
    and logged.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"env": env} if env is not None else {}

    clean = copy_dir(snapshot, workdir / "clean")
    before = state(copy_dir(snapshot, workdir / "before"))
    counted = pool.run(*args(clean), trace=True, roots=(clean,), **options).check()
    after = state(clean)
    settled_after_once = settled(clean)
    pool.run(*args(clean), **options).check()
    settled_after_twice = settled(clean)
    expected = {"before": settled_after_once, "after": settled_after_twice}
    known = {"before": before, "after": after}
    if legitimate is not None:
        known.update(legitimate(before, after))
    report = CrashReport(name=name, steps=counted.steps, before=before, after=after)
    retry_at = distinct_points(counted.steps)
    expected_kinds = [kind for _i, kind, _d in counted.steps]

    def crash(n: int) -> Outcome:
        data = copy_dir(snapshot, workdir / f"n{n:03d}")
        run = pool.run(*args(data), n=n, trace=True, roots=(data,), **options)
        last = run.steps[-1] if run.steps else (0, "-", "")
        found = state(data)
        label = next((lab for lab, value in known.items() if value == found), "mixed")
        outcome = Outcome(
            n=n,
            step=f"{last[1]} {last[2][:80]}".strip(),
            returncode=run.returncode,
            label=label,
            state=found,
            diverged=[kind for _i, kind, _d in run.steps] != expected_kinds[:n],
        )
        if n not in retry_at:
            return outcome
        retry = pool.run(*args(data), **options)
        outcome.retry_returncode = retry.returncode
        outcome.retry_stderr = retry.stderr
        if retry.returncode == 0:
            outcome.settled = settled(data)
            outcome.settled_ok = outcome.settled == expected.get(label, settled_after_once)
        return outcome

    report.outcomes = pool.map(crash, list(range(1, len(counted.steps) + 1)))
    report.save()
    return report
