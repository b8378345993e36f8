"""SIGKILL at every step of a component update (download, atomic write, switch, prune),
then a restart: the current set is all old or all new, its files verify by SHA-256, and
the next update succeeds. And a real full disk (a small tmpfs, mounted because the tests
run as root; skipped where mount is refused): under data_dir/components while writing a
component, the old version stays current; under the whole data directory, nothing
changes either."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.crash import CrashReport, crash_everywhere
from tests.helpers.faults import World, age, copy_dir, server_state, stray_files

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED = (
    Path(__file__).resolve().parents[2] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)


def _rule(marker: str) -> bytes:
    return (
        f'\nrule Cssec_Fault_{marker}\n{{\n    strings:\n        $m = "CSSEC-FAULT-{marker}"\n'
        "    condition:\n        $m\n}\n"
    ).encode()


def _publish(world: World, component: str, marker: str) -> None:
    source = world.root / f"{component}-{marker}.yar"
    source.write_bytes((SEED / f"{component}.yar").read_bytes() + _rule(marker))
    world.vendor_cli("component", "publish", component, str(source))


def _components(data: Path) -> Any:
    return server_state(data)["components"]


def _update(data: Path) -> list[str]:
    return ["server", "components", "update", "--data", str(data)]


@pytest.fixture(scope="module")
def installed(world: World) -> Path:
    contract = world.contract()
    return world.install("server-v1", key=contract.key)


def _assert_all_or_nothing(report: CrashReport) -> None:
    assert not report.problems(), "\n".join(report.problems())
    assert set(report.labels()) <= {"before", "after"}, report.labels()
    assert {"before", "after"} <= set(report.labels()), report.labels()
    old, new = report.before["components"], report.after["components"]
    assert old["files_verify"]
    assert new["files_verify"]
    assert new["serial"] > old["serial"]
    assert new["previous_serial"] == old["serial"]
    kinds = {kind for _i, kind, _d in report.steps}
    assert {"fs:tempfile.mkstemp", "fs:os.rename", "db:commit"} <= kinds, kinds


def _strays(report: CrashReport, workdir: Path) -> dict[int, list[str]]:
    found = {o.n: stray_files(workdir / f"n{o.n:03d}") for o in report.outcomes}
    return {n: files for n, files in found.items() if files}


@pytest.fixture(scope="module")
def first_update(world: World, installed: Path) -> tuple[CrashReport, Path]:
    """Two components changed at once (virus pattern and spyware pattern)."""
    _publish(world, "virus_pattern", "A")
    _publish(world, "spyware_pattern", "A")
    workdir = world.root / "crash-update"
    report = crash_everywhere(
        world.pool,
        name="components-update",
        snapshot=age(installed),
        workdir=workdir,
        args=_update,
        state=server_state,
        settled=_components,
    )
    return report, workdir


def test_a_crash_anywhere_in_an_update_keeps_one_whole_set(
    first_update: tuple[CrashReport, Path],
) -> None:
    report, _workdir = first_update
    _assert_all_or_nothing(report)
    old, new = report.before["components"]["versions"], report.after["components"]["versions"]
    changed = {c for c in new if new[c] != old[c]}
    assert changed == {"virus_pattern", "spyware_pattern"}
    assert report.after["update_log"][-1]["result"] == "success"


def test_no_temporary_file_outlives_a_crashed_update(
    first_update: tuple[CrashReport, Path],
) -> None:
    report, workdir = first_update
    strays = _strays(report, workdir)
    assert not strays, f"temporary files left after the retry, by crash point: {strays}"


def test_a_crash_while_pruning_the_oldest_set(world: World, installed: Path) -> None:
    """Current v2-set, previous v1-set; v3 arrives: the switch, then v1 is pruned."""
    at_v2 = copy_dir(installed, world.root / "server-v2")
    world.pool.run(*_update(at_v2)).check()
    _publish(world, "virus_pattern", "B")
    report = crash_everywhere(
        world.pool,
        name="components-update-prune",
        snapshot=age(at_v2),
        workdir=world.root / "crash-prune",
        args=_update,
        state=server_state,
        settled=_components,
    )
    _assert_all_or_nothing(report)
    kinds = {kind for _i, kind, _d in report.steps}
    assert "fs:shutil.rmtree" in kinds or "fs:os.remove" in kinds, kinds
    old = report.before["components"]["versions"]
    assert not (
        world.root / "crash-prune" / "clean" / "components" / "virus_pattern" / "1"
    ).exists()
    assert (
        world.root
        / "crash-prune"
        / "clean"
        / "components"
        / "virus_pattern"
        / str(old["virus_pattern"])
    ).is_dir(), "the previous set stays for a rollback"


# --- a real full disk ------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},nr_inodes=256,mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def _fill(directory: Path) -> Path:
    """Write a filler file until the file system refuses another byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_while_writing_a_component(world: World, installed: Path) -> None:
    """data_dir/components on a 128 KiB tmpfs that is full: the update fails with a clear
    cause, the old set stays current and verifies, and once space is freed it succeeds."""
    server = copy_dir(installed, world.root / "server-full-disk")
    world.pool.run(*_update(server)).check()  # whatever is published now is current
    _publish(world, "virus_pattern", "C")
    components = server / "components"
    saved = shutil.copytree(components, world.root / "components-saved")
    shutil.rmtree(components)
    with small_tmpfs(components, "128k"):
        shutil.copytree(saved, components, dirs_exist_ok=True)
        filler = _fill(components)
        before = server_state(server)
        run = world.pool.run(*_update(server))
        assert run.returncode == 1, run.stdout + run.stderr
        [line] = run.stderr.strip().splitlines()
        assert line.startswith("error: component_update_failed:"), line
        assert "ENOSPC" in line, line
        after = server_state(server)
        assert after["components"] == before["components"]
        assert after["components"]["files_verify"]
        assert after["slots"] == before["slots"]
        row = after["update_log"][-1]
        assert (row["result"], row["cause"]) == ("failed", "disk_error")
        assert not stray_files(server), "a failed write leaves no temporary file"

        os.remove(filler)
        world.pool.run(*_update(server)).check()
        updated = server_state(server)["components"]
        assert updated["serial"] > before["components"]["serial"]
        assert updated["files_verify"]


@pytest.fixture(scope="module")
def full_data_disk(world: World, installed: Path) -> dict[str, Any]:
    """The whole data directory on a full tmpfs (the database cannot grow either): one
    update attempt, then space is freed and the state read, then the next update."""
    _publish(world, "virus_pattern", "D")
    with small_tmpfs(world.root / "full-data-disk", "4m") as mount:
        server = age(copy_dir(installed, mount / "server"))
        before = server_state(server)
        filler = _fill(mount)
        failed = world.pool.run(*_update(server))
        os.remove(filler)
        after = server_state(server)
        retry = world.pool.run(*_update(server))
        settled = server_state(server)["components"]
    return {"before": before, "failed": failed, "after": after, "retry": retry, "settled": settled}


def test_a_full_data_disk_changes_nothing(full_data_disk: dict[str, Any]) -> None:
    before, after = full_data_disk["before"], full_data_disk["after"]
    assert full_data_disk["failed"].returncode != 0
    assert after["components"] == before["components"]
    assert after["slots"] == before["slots"]
    assert after["events"] == before["events"]
    full_data_disk["retry"].check()
    assert full_data_disk["settled"]["serial"] > before["components"]["serial"]
    assert full_data_disk["settled"]["files_verify"]


def test_a_full_data_disk_is_reported_in_one_line(full_data_disk: dict[str, Any]) -> None:
    failed = full_data_disk["failed"]
    assert failed.returncode == 2  # a fault (cssec.clikit), not a refusal
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("error: "), line


def test_a_read_on_a_full_data_disk_still_answers(world: World, installed: Path) -> None:
    """`license show` with the data directory's disk full: observe_time cannot save the latest
    time seen, which a read must survive (exit 0, the slots, one warning line) without moving
    the stored latest time. A connection held open keeps SQLite's -shm file, so the
    database can still be opened (without it, WAL mode cannot open on a full disk at all)."""
    with small_tmpfs(world.root / "full-disk-read", "4m") as mount:
        server = age(copy_dir(installed, mount / "server"))
        held = sqlite3.connect(server / "server.db")
        try:
            [(seen_before,)] = held.execute("SELECT latest_seen FROM server_info").fetchall()
            filler = _fill(mount)
            run = world.pool.run("server", "license", "show", "--data", str(server), "--lang", "en")
            [(seen_after,)] = held.execute("SELECT latest_seen FROM server_info").fetchall()
            os.remove(filler)
        finally:
            held.close()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Status: Activated" in run.stdout, run.stdout
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("warning: could not save the latest time seen"), line
    assert "full" in line, line
    assert seen_after == seen_before
