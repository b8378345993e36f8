"""Shared helpers of the HTTP benches: serve an app, drive load at it, seed a vendor.

Not a bench itself (`make bench` runs it too, and then it only prints what it would use).

- `serve(...)`: a real server process (uvicorn, or granian when asked and installed) on a
  free loopback port with N workers, through `cssec.web.serving` as `cssec vendor serve
  --workers N` does, serving either the vendor (its factory
  `cssec.vendor_service.app:create_app_from_environment`, settings from CSSEC_VENDOR_*) or the
  bare baseline (`_hello:app`); killed afterwards.
- `drive(...)`: wrk (Debian's `wrk`) with a generated Lua script that cycles through a
  list of request bodies, so every request names a different activation code; when wrk is
  missing, an asyncio httpx driver does the same (slower: it shares the CPU with the
  server in Python, so its ratios understate the server).
- `seeded_vendor(...)`: a vendor data directory (SQLite, or a throwaway PostgreSQL
  database created through CSSEC_TEST_POSTGRES_URL's server and dropped afterwards) with
  contracts issued through the services, and their activation codes.
- `tree_rss(pid)`: resident memory of a process and its children (psutil).

The machine has 2 cores shared with other engineers' test runs: every figure is printed
with the load average, and ratios are only meaningful against a baseline measured in the
same run, right next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# One load generator IP: the per-IP limits would turn the run into a 429 test. Per-second
# windows keep the moving-window limiter's event lists short (it stores one per request).
RAISED_LIMITS = {
    "CSSEC_VENDOR_STATUS_RATE_LIMIT": "1000000/second",
    "CSSEC_VENDOR_REGISTRATION_RATE_LIMIT": "1000000/second",
    "CSSEC_VENDOR_ACTIVEUPDATE_RATE_LIMIT": "1000000/second",
}


def load_avg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def machine_line() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load_avg()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------- serving


def granian_available() -> bool:
    try:
        import granian  # type: ignore[import-not-found]  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def server_command(
    target: str,
    port: int,
    *,
    workers: int,
    server: str,
    factory: bool,
    tls: tuple[str, str] | None = None,
) -> list[str]:
    if server == "granian":
        cmd = [PYTHON, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", str(workers), "--no-ws", "--log-level", "warning"]
        return [*cmd, *(["--factory"] if factory else []), target]
    # uvicorn through cssec.web.serving, as `cssec vendor serve` runs it: TCP_NODELAY on
    # every connection (without it, multi-worker uvicorn stalls ~40 ms per response).
    cmd = [PYTHON, "-m", "cssec.web.serving", target, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning"]
    if tls is not None:
        cmd += ["--ssl-certfile", tls[0], "--ssl-keyfile", tls[1]]
    return [*cmd, *(["--factory"] if factory else [])]


@contextmanager
def serve(
    target: str,
    *,
    env: dict[str, str] | None = None,
    workers: int = 2,
    server: str = "uvicorn",
    factory: bool = False,
    ready_path: str = "/",
    tls: tuple[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve `target` ("module:attr" under bench/) and yield (base URL, process); over
    HTTPS with `tls` (certificate file, key file)."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), full_env.get("PYTHONPATH")]))
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below)
    cmd = server_command(target, port, workers=workers, server=server, factory=factory, tls=tls)
    proc = subprocess.Popen(cmd, env=full_env, cwd=BENCH, stdout=log, stderr=subprocess.STDOUT)
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        _wait_ready(base + ready_path, proc, log, workers)
        yield base, proc
    finally:
        _stop(proc)
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: object, workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            raise SystemExit(f"server exited: {log.read().decode(errors='replace')[-2000:]}")  # type: ignore[attr-defined]
        try:
            if httpx.get(url, timeout=2, verify=False).status_code < 500:  # loopback, ours
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit(f"server did not answer {url} within 120 s")
    # Every worker must be up before the clock starts, not just the first one.
    while workers > 1 and len(psutil.Process(proc.pid).children(recursive=True)) < workers:
        time.sleep(0.1)
    time.sleep(1.0)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait()


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


# ---------------------------------------------------------------- driving load


@dataclass(frozen=True)
class LoadResult:
    driver: str
    requests: int
    seconds: float
    errors: int  # socket errors + non-2xx/3xx answers + timeouts
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    load: str  # load average when the run ended

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.rps:9,.0f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  "
            f"max {self.max_ms:7.1f} ms  errors {self.errors}  ({self.requests:,} requests, "
            f"{self.driver}, {self.load})"
        )


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None = None


LUA = r"""
-- Requests are formatted in init(): only then does wrk know the Host header.
local reqs, n
local tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  reqs = {%(reqs)s}
  n = #reqs
  i = (tonumber(tid) or 1) * 7919
end
function request()
  i = i + 1
  return reqs[(i %% n) + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"errors":%%d,' ..
    '"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _lua_script(requests: Sequence[Request]) -> str:
    headers = '{["Content-Type"]="application/json",["Accept"]="application/json"}'
    formatted = []
    for r in requests:
        body = "nil" if r.body is None else _lua_string(r.body)
        formatted.append(
            f"wrk.format({_lua_string(r.method)},{_lua_string(r.path)},{headers},{body})"
        )
    return LUA % {"reqs": ",\n".join(formatted)}


def drive(
    base: str,
    requests: Sequence[Request],
    *,
    seconds: float,
    connections: int = 64,
    threads: int = 2,
    driver: str | None = None,
) -> LoadResult:
    """`connections` concurrent clients for `seconds`, cycling through `requests`."""
    chosen = driver or ("wrk" if shutil.which("wrk") else "httpx")
    if chosen == "wrk":
        return _drive_wrk(base, requests, seconds=seconds, connections=connections, threads=threads)
    return asyncio.run(_drive_httpx(base, requests, seconds=seconds, connections=connections))


def _drive_wrk(
    base: str, requests: Sequence[Request], *, seconds: float, connections: int, threads: int
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua_script(requests))
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
             "--timeout", "10s", "-s", script.name, base],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        driver=f"wrk -t{threads} -c{connections}",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        p50_ms=data["p50"] / 1e3,
        p90_ms=data["p90"] / 1e3,
        p99_ms=data["p99"] / 1e3,
        max_ms=data["max"] / 1e3,
        load=load_avg(),
    )


async def _drive_httpx(
    base: str, requests: Sequence[Request], *, seconds: float, connections: int
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    # verify=False: our own loopback server; wrk does not verify either.
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10, verify=False) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset * 7919
            while time.perf_counter() < deadline:
                r = requests[i % len(requests)]
                i += 1
                t0 = time.perf_counter()
                try:
                    response = await client.request(
                        r.method, r.path, content=r.body, headers=headers
                    )
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker(n) for n in range(connections)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return LoadResult(
        driver=f"httpx asyncio x{connections}", requests=len(latencies), seconds=elapsed,
        errors=errors, p50_ms=q[49] * 1e3, p90_ms=q[89] * 1e3, p99_ms=q[98] * 1e3,
        max_ms=max(latencies) * 1e3, load=load_avg(),
    )  # fmt: skip


# ---------------------------------------------------------------- a seeded vendor


@dataclass(frozen=True)
class SeededVendor:
    data_dir: Path
    database_url: str | None  # None: SQLite in data_dir
    activation_codes: list[str]
    registration_keys: list[str]

    @property
    def env(self) -> dict[str, str]:
        env = {"CSSEC_VENDOR_DATA_DIR": str(self.data_dir), **RAISED_LIMITS}
        if self.database_url:
            env["CSSEC_VENDOR_DATABASE_URL"] = self.database_url
        return env

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.database_url else "SQLite"


def pg_base_url() -> str:
    return os.environ.get("CSSEC_TEST_POSTGRES_URL") or DEFAULT_PG


def _admin_dsn(base: str) -> str:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reachable(base: str | None = None) -> str | None:
    """None when PostgreSQL answers, else why not."""
    import psycopg  # noqa: PLC0415

    try:
        psycopg.connect(_admin_dsn(base or pg_base_url()), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]
    return None


@contextmanager
def throwaway_postgres(base: str | None = None) -> Iterator[str]:
    """A fresh database `cssec_bench_<hex>` on the server of `base`, dropped afterwards."""
    import psycopg  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(base or pg_base_url())
    name = f"cssec_bench_{secrets.token_hex(6)}"
    admin = _admin_dsn(str(url.render_as_string(hide_password=False)))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def seeded_vendor(
    *, postgres: bool = False, contracts: int = 20_000, sample: int = 1_000
) -> Iterator[SeededVendor]:
    """A migrated vendor with `contracts` contracts (bulk issuance), and `sample` of their
    activation codes and registration keys, spread over the whole range."""
    from cssec.vendor_service.runtime import open_vendor  # noqa: PLC0415
    from cssec.vendor_service.services import issue_bulk_contracts  # noqa: PLC0415
    from cssec.vendor_service.settings import VendorSettings  # noqa: PLC0415

    with (
        tempfile.TemporaryDirectory(prefix="cssec-bench-") as tmp,
        throwaway_postgres() if postgres else _no_db() as db_url,
    ):
        data = Path(tmp) / "vendor"
        vendor = open_vendor(VendorSettings(data_dir=data, database_url=db_url))
        out = Path(tmp) / "contracts.csv"
        try:
            with vendor.session() as session:
                issue_bulk_contracts(
                    session, count=contracts, seats=50, out=out, customer="bench reseller",
                    actor="bench",
                )  # fmt: skip
        finally:
            vendor.close()
        rows = list(csv.DictReader(x for x in out.open() if not x.startswith("#")))
        step = max(1, len(rows) // sample)
        picked = rows[::step][:sample]
        yield SeededVendor(
            data_dir=data,
            database_url=db_url,
            activation_codes=[r["activation_code_cs"] for r in picked],
            registration_keys=[r["registration_key"] for r in picked],
        )


@contextmanager
def _no_db() -> Iterator[None]:
    yield None


def server_id(i: int) -> str:
    return f"bench-server-{i:06d}"


# ---------------------------------------------------------------- endpoint vs bare hello


@dataclass(frozen=True)
class Comparison:
    name: str
    endpoint: LoadResult
    bare: LoadResult
    floor: LoadResult | None = None

    @property
    def ratio(self) -> float:
        return self.endpoint.rps / self.bare.rps


def common_args(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="5 s measurements, smaller seed")
    parser.add_argument("--seconds", type=float, default=20, help="per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--driver", choices=["wrk", "httpx"], default=None)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--floor", action="store_true", help="also measure the framework floor (_fastapi_floor)"
    )
    return parser


VENDOR_FACTORY = "cssec.vendor_service.app:create_app_from_environment"


def measure_against_hello(
    name: str,
    seeded: SeededVendor,
    requests: Sequence[Request],
    args: argparse.Namespace,
    *,
    env: dict[str, str] | None = None,
) -> Comparison:
    """Warm up, then load the vendor with `requests` and the bare app with the same ones.
    `env`: extra CSSEC_VENDOR_* settings for the vendor."""
    seconds = 5.0 if args.quick else args.seconds
    warm = 2.0 if args.quick else 5.0
    kw = {"connections": args.connections, "driver": args.driver}
    with serve(
        VENDOR_FACTORY, env={**seeded.env, **(env or {})}, workers=args.workers,
        server=args.server, factory=True, ready_path="/api/v1/health",
    ) as (base, _proc):  # fmt: skip
        check_ok(base, requests[:20])
        drive(base, requests, seconds=warm, **kw)
        endpoint = drive(base, requests, seconds=seconds, **kw)
    with serve("_hello:app", workers=args.workers, server=args.server) as (base, _proc):
        drive(base, requests, seconds=warm, **kw)
        bare = drive(base, requests, seconds=seconds, **kw)
    floor = None
    if args.floor:
        with serve("_fastapi_floor:app", workers=args.workers, server=args.server) as (base, _p):
            drive(base, requests, seconds=warm, **kw)
            floor = drive(base, requests, seconds=seconds, **kw)
    return Comparison(name, endpoint, bare, floor)


def check_ok(base: str, requests: Sequence[Request]) -> None:
    """The load must be made of successful requests: fail loudly on the first refusal."""
    with httpx.Client(base_url=base, timeout=10, verify=False) as client:  # loopback, ours
        for r in requests:
            response = client.request(
                r.method, r.path, content=r.body, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 200:
                raise SystemExit(f"{r.method} {r.path} -> {response.status_code} {response.text}")


def report(c: Comparison, *, ratio_target: float, p99_target_ms: float | None = None) -> bool:
    met = c.ratio >= ratio_target and c.endpoint.errors == 0
    if p99_target_ms is not None:
        met = met and c.endpoint.p99_ms <= p99_target_ms
    print(f"{c.name}")
    print(f"  endpoint  {c.endpoint.line()}")
    print(f"  bare ASGI {c.bare.line()}")
    if c.floor is not None:
        print(f"  FastAPI floor {c.floor.line()}")
        print(
            f"  floor / bare {c.floor.rps / c.bare.rps:.2f}; "
            f"endpoint / floor {c.endpoint.rps / c.floor.rps:.2f}"
        )
    p99 = "" if p99_target_ms is None else f", p99 <= {p99_target_ms:.0f} ms"
    verdict = "met" if met else "MISSED"
    print(f"  ratio {c.ratio:.2f} (target >= {ratio_target}{p99})  -> {verdict}")
    result = {
        "name": c.name, "rps": round(c.endpoint.rps), "bare_rps": round(c.bare.rps),
        "ratio": round(c.ratio, 3), "p50_ms": c.endpoint.p50_ms, "p99_ms": c.endpoint.p99_ms,
        "errors": c.endpoint.errors, "bare_errors": c.bare.errors, "met": met,
        "load": c.endpoint.load,
        "floor_rps": None if c.floor is None else round(c.floor.rps),
    }  # fmt: skip
    print("RESULT " + json.dumps(result))
    return met


if __name__ == "__main__":
    print(machine_line())
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'httpx asyncio (wrk not found)'}")
    print(f"granian: {'available' if granian_available() else 'not installed'}")
    print("helpers only; the benches are status.py, manifest.py, memory.py, soak.py")
