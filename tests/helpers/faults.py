"""Helpers of the fault tests: real processes (a vendor on a loopback port, the cssec CLI
forked from a zygote and killed at a chosen step), data-directory snapshots, and the
state of a server or vendor data directory as the normal code reads it after a restart."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import SystemClock, zone
from cssec.server.licensing.view import read_licenses
from cssec.server.models import ServerInfo, ServerUpdateLog, SystemEvent
from cssec.server.storage.datadir import DataDir
from cssec.server.updates.entitlement import separately_licensed
from cssec.server.updates.service import read_installed
from cssec.server.updates.store import ComponentStore

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "faults-admin-password"
TZ_NAME = "Asia/Tokyo"
KILLED = -9
WORKERS = 2  # the box has two cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_repo(pythonpath: str) -> str:
    """`pythonpath` with the repository first, so `tests.…` imports in a subprocess."""
    return os.pathsep.join([str(REPO), *filter(None, pythonpath.split(os.pathsep))])


def base_env(**extra: str) -> dict[str, str]:
    """The parent's environment without CSSEC_* (nothing leaks in), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSSEC_")}
    env.update(
        CSSEC_SERVER_TIMEZONE=TZ_NAME,
        CSSEC_VENDOR_STATUS_RATE_LIMIT="100000/minute",
        CSSEC_VENDOR_REGISTRATION_RATE_LIMIT="100000/minute",
        CSSEC_VENDOR_ACTIVEUPDATE_RATE_LIMIT="100000/minute",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    steps: list[tuple[int, str, str]] = field(default_factory=list)
    """(index, kind, detail) of every step the run reached (with a trace)."""

    def check(self) -> Run:
        assert self.returncode == 0, f"exit {self.returncode}:\n{self.stdout}\n{self.stderr}"
        return self


def read_trace(path: Path) -> list[tuple[int, str, str]]:
    if not path.exists():
        return []
    steps = []
    for line in path.read_text(encoding="utf-8").splitlines():
        index, kind, _at, detail = [*line.split("\t", 3), ""][:4]
        steps.append((int(index), kind, detail))
    return steps


class Zygote:
    """One fork server (tests/faults/zygote.py, run as `python -m tests.faults.zygote` with
    the repository on PYTHONPATH); `run` is safe from several threads."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.lock = threading.Lock()
        self.jobs = 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=base_env(PYTHONPATH=with_repo(os.environ.get("PYTHONPATH", ""))),
        )

    def run(
        self,
        *args: str,
        n: int = 0,
        roots: tuple[Path, ...] = (),
        env: dict[str, str] | None = None,
        trace: bool = False,
    ) -> Run:
        with self.lock:
            self.jobs += 1
            stem = self.workdir / f"job{id(self)}-{self.jobs}"
            trace_path = stem.with_suffix(".trace") if trace else None
            job = {
                "n": n,
                "trace": str(trace_path) if trace_path else None,
                "roots": [str(r) for r in roots],
                "args": list(args),
                "env": env if env is not None else base_env(),
                "stdout": str(stem.with_suffix(".out")),
                "stderr": str(stem.with_suffix(".err")),
            }
            assert self.process.stdin is not None
            assert self.process.stdout is not None
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
            assert reply, "the zygote died"
            returncode = int(json.loads(reply)["returncode"])
        return Run(
            returncode=returncode,
            stdout=stem.with_suffix(".out").read_text(encoding="utf-8", errors="replace"),
            stderr=stem.with_suffix(".err").read_text(encoding="utf-8", errors="replace"),
            steps=read_trace(trace_path) if trace_path else [],
        )

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class Pool:
    """WORKERS zygotes and a thread pool: crash runs are independent, so run two at once."""

    def __init__(self, workdir: Path) -> None:
        self.zygotes = [Zygote(workdir) for _ in range(WORKERS)]
        self.free = list(self.zygotes)
        self.lock = threading.Lock()

    @contextmanager
    def zygote(self) -> Iterator[Zygote]:
        with self.lock:
            zygote = self.free.pop()
        try:
            yield zygote
        finally:
            with self.lock:
                self.free.append(zygote)

    def run(self, *args: str, **options: Any) -> Run:
        with self.zygote() as zygote:
            return zygote.run(*args, **options)

    def map(self, work: Callable[[int], Any], items: list[int]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=WORKERS) as executor:
            return list(executor.map(work, items))

    def close(self) -> None:
        for zygote in self.zygotes:
            zygote.close()


@dataclass
class VendorProcess:
    """`python -m cssec vendor serve` on a free loopback port."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def start_vendor(data_dir: Path, log_path: Path) -> VendorProcess:
    port = free_port()
    log = log_path.open("wb")
    command = ["cssec", "vendor", "serve", "--data", str(data_dir), "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=base_env(),
    )
    vendor = VendorProcess(data_dir=data_dir, port=port, process=process, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            vendor.stop()
            raise RuntimeError(f"vendor exited early:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{vendor.url}/api/v1/health", timeout=2).status_code == 200:
                return vendor
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    vendor.stop()
    raise RuntimeError(f"vendor did not come up:\n{log_path.read_text(errors='replace')}")


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def copy_dir(source: Path, target: Path) -> Path:
    """A snapshot (SQLite's -wal/-shm included: the copy is of a directory no one writes)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    return target


# --- the state after a restart, read by the normal code -------------------------------


def server_state(data_dir: Path) -> dict[str, Any]:
    """Licenses, the system event log, components and the server update log, as the server
    reads them when it starts (open_database migrates to head first). Timestamps and the
    statement's signature vary from run to run and are left out."""
    data = DataDir(data_dir)
    # The server's own engine (WAL, BEGIN IMMEDIATE): opening it recovers the database as a
    # restart does. Not open_database: the schema is at head already, and Alembic's
    # process-global context would serialize the readers (the retry run, a real process,
    # goes through open_database).
    engine = data.engine()
    sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        with sessions() as session:
            licenses = read_licenses(session, now=SystemClock().now(), tz=zone(TZ_NAME))
            slots = [
                {
                    "product": s.product.value,
                    "code": s.activation_code,
                    "version_type": s.version_type.value,
                    "seats": s.seats,
                    "expires_on": s.expires_on.isoformat(),
                    "grace_days": s.grace_days,
                    "status": s.state.value,
                    "confirmed_online": s.confirmed_online,
                    "last_error": s.last_error,
                }
                for s in licenses.slots
            ]
            events = [
                {"kind": e.kind, "level": e.level, "details": e.details}
                for e in session.scalars(select(SystemEvent).order_by(SystemEvent.id))
            ]
            installed = read_installed(session)
            logs = [
                {"result": r.result, "cause": r.cause, "serial": r.serial, "versions": r.versions}
                for r in session.scalars(select(ServerUpdateLog).order_by(ServerUpdateLog.id))
            ]
            session.rollback()
    finally:
        engine.dispose()
    store = ComponentStore(data_dir)
    current = installed.current
    previous = installed.previous
    return {
        "slots": slots,
        "events": events,
        "keys_pinned": bool(data.read_vendor_keys()),
        "components": {
            "serial": current.serial if current else None,
            "versions": {c.value: v.version for c, v in current.components.items()}
            if current
            else {},
            "previous_serial": previous.serial if previous else None,
            # Every file the server should hold is there: the template only on a site
            # licensed for Damage Cleanup Services (a C/S Sec.-only site never holds it).
            "files_verify": all(
                store.present(v)
                for c, v in current.components.items()
                if not separately_licensed(c) or any(s["product"] == "DCS" for s in slots)
            )
            if current
            else True,
        },
        "update_log": logs,
    }


def age(data_dir: Path, *, hours: int = 1) -> Path:
    """Make the server's latest seen time an hour old, as for a server last used an hour
    ago. observe_time writes latest_seen only when a minute has passed since, so without
    this a run's steps would depend on how long ago the snapshot was taken."""
    engine = DataDir(data_dir).engine()
    try:
        with Session(engine) as session, session.begin():
            info = session.get(ServerInfo, 1)
            assert info is not None
            info.latest_seen = SystemClock().now() - timedelta(hours=hours)
    finally:
        engine.dispose()
    return data_dir


def stray_files(data_dir: Path) -> list[str]:
    """Temporary files a write left behind under components/ (never under a real name)."""
    root = data_dir / "components"
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(data_dir)) for p in root.rglob(".incoming-*"))


def vendor_contract_state(data_dir: Path, contract_id: int) -> dict[str, Any]:
    """The contract's end and its renewal audit rows, read by the vendor's own code."""
    from cssec.vendor_service.models import AuditEntry, Contract  # noqa: PLC0415
    from cssec.web.db import make_engine, sqlite_url  # noqa: PLC0415

    engine = make_engine(sqlite_url(data_dir / "vendor.db"))
    try:
        with Session(engine) as session:
            contract = session.get(Contract, contract_id)
            assert contract is not None
            audits = [
                {"action": a.action, "target": a.target, "before": a.before, "after": a.after}
                for a in session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == "contract.renewed")
                    .order_by(AuditEntry.id)
                )
            ]
            return {"end": contract.ends_on.isoformat(), "renewals": audits}
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Contract:
    key: str
    codes: dict[str, str]


@dataclass
class World:
    """The module's vendor, driven by its own CLI, and servers installed by the CLI."""

    pool: Pool
    vendor: VendorProcess
    root: Path
    password_file: Path

    def vendor_cli(self, *args: str) -> str:
        return self.pool.run("vendor", *args, "--data", str(self.vendor.data_dir)).check().stdout

    def contract(self, *, with_dcs: bool = False) -> Contract:
        extra = ["--with-dcs"] if with_dcs else []
        out = self.vendor_cli("contract", "new", "--customer", "障害試験", "--seats", "5", *extra)
        codes = {}
        for line in out.splitlines():
            if line.startswith("activation code "):
                product, code = line.removeprefix("activation code ").split(": ")
                codes[product] = code.strip()
        return Contract(key=last_line(out), codes=codes)

    def renew(self, key: str) -> None:
        self.vendor_cli("contract", "renew", key)

    def reissue(self, key: str) -> str:
        return last_line(self.vendor_cli("code", "reissue", key))

    def install(
        self, name: str, *, key: str | None = None, code: str | None = None, offline: bool = False
    ) -> Path:
        """A server installed by `cssec server install` (online unless `offline`)."""
        target = self.root / name
        credential = ["--registration-key", key] if key else ["--activation-code", str(code)]
        url = self.unreachable_url() if offline else self.vendor.url
        self.pool.run(
            "server", "install", "--data", str(target), "--vendor-url", url, *credential,
            "--admin-password-file", str(self.password_file), *(["--offline"] if offline else []),
            "--vendor-key-fingerprint", self.fingerprint(),
        ).check()  # fmt: skip
        return target

    def fingerprint(self) -> str:
        """The vendor's current key, as its operator hands it out of band."""
        return last_line(self.vendor_cli("keys", "public", "--fingerprint"))

    @staticmethod
    def unreachable_url() -> str:
        return f"http://127.0.0.1:{free_port()}"  # nothing listens there
