"""SIGKILL at every step of `cssec vendor contract renew`, then a restart: the contract ends
on the old day or the new one, and its contract.renewed audit row exists exactly when the
end moved; the next renewal succeeds and moves the end by one term."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.crash import crash_everywhere
from tests.helpers.faults import (
    KILLED,
    Pool,
    base_env,
    copy_dir,
    last_line,
    read_trace,
    vendor_contract_state,
)

LAUNCHER = Path(__file__).resolve().parent / "crashpoint.py"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_crash_anywhere_in_a_renewal(pool: Pool, tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    issued = pool.run(
        "vendor", "contract", "new", "--customer", "障害試験", "--seats", "5", "--data", str(vendor)
    ).check()
    key = last_line(issued.stdout)
    contract_id = int(issued.stdout.split()[1])

    def state(data: Path) -> Any:
        return vendor_contract_state(data, contract_id)

    report = crash_everywhere(
        pool,
        name="vendor-contract-renew",
        snapshot=vendor,
        workdir=tmp_path / "crash-renew",
        args=lambda data: ["vendor", "contract", "renew", key, "--data", str(data)],
        state=state,
        settled=state,
    )
    assert not report.problems(), "\n".join(report.problems())
    assert set(report.labels()) == {"before", "after"}, report.labels()
    before, after = report.before, report.after
    assert before["renewals"] == []
    assert after["end"] > before["end"]
    [row] = after["renewals"]
    assert (row["before"]["end"], row["after"]["end"]) == (before["end"], after["end"])
    kinds = {kind for _i, kind, _d in report.steps}
    assert "db:commit" in kinds


def test_the_launcher_runs_standalone(pool: Pool, tmp_path: Path) -> None:
    """`python tests/faults/crashpoint.py N -- <cssec args>`, as a person would run it: N = 0
    counts the steps, N = the renewal's commit kills it there and nothing changed."""
    vendor = tmp_path / "vendor"
    issued = pool.run(
        "vendor", "contract", "new", "--customer", "単独", "--seats", "1", "--data", str(vendor)
    ).check()
    key, contract_id = last_line(issued.stdout), int(issued.stdout.split()[1])
    snapshot = copy_dir(vendor, tmp_path / "snapshot")

    def launch(n: int, data: Path, trace: Path) -> subprocess.CompletedProcess[str]:
        own = [str(n), "--trace", str(trace), "--root", str(data)]
        cssec = ["vendor", "contract", "renew", key, "--data", str(data)]
        return subprocess.run(
            [sys.executable, str(LAUNCHER), *own, "--", *cssec],
            capture_output=True,
            text=True,
            check=False,
            env=base_env(),
            timeout=120,
        )

    counted = launch(0, vendor, tmp_path / "count.trace")
    assert counted.returncode == 0, counted.stderr
    steps = read_trace(tmp_path / "count.trace")
    last_commit = max(i for i, kind, _d in steps if kind == "db:commit")
    crashed = launch(last_commit, snapshot, tmp_path / "crash.trace")
    assert crashed.returncode == KILLED, crashed.stderr
    assert read_trace(tmp_path / "crash.trace")[-1][:2] == (last_commit, "db:commit")
    assert vendor_contract_state(snapshot, contract_id)["renewals"] == []
    assert len(vendor_contract_state(vendor, contract_id)["renewals"]) == 1
