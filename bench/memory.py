"""Resident memory of an idle C/S Sec. server, and of the client's commands.

Run: ``.venv/bin/python bench/memory.py [--quick] [--idle-seconds 20]``

Real processes on loopback, the way an administrator runs them: a vendor
(`cssec vendor serve`, SQLite) with one contract; `cssec server install` online with its
registration key (which downloads the four components), then `cssec server serve`. Once
the server answers, it is left idle for --idle-seconds and its RSS (the process and every
child, psutil) is sampled each second; the figure is the highest sample.

The client has no daemon yet: its figure is the peak RSS of whole `cssec client install`,
`status` and `update` processes (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` of a
wrapper that runs exactly one of them). Also shown: the same commands through the
client's own Typer app, since `cssec` imports the vendor and the server too before it runs
a client command. The baseline for both is a bare `python -c pass` of the same
interpreter, measured the same way.

Targets (issue #7): idle server <= 100 MB; client <= 50 MB. The client's update is measured
on the signed-manifest path, moving to TUF, and through TUF (issue #13); last, through TUF
to a pattern of 2,000 rules (whole), then to that pattern grown by 1 %, which the client
rebuilds from the delta its server kept (the server's access log must show it). Those two
updates, and two ScanNows with that pattern, are measured in their own process alone (with
their wall time), and the client's pattern compiler child, if it has one, on its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from delta import patterns
from http_load import free_port, machine_line, tree_rss

SERVER_TARGET_MB = 100
CLIENT_TARGET_MB = 50
PATTERN_RULES = 2_000
"""The pattern of the delta step (about 315 KB; bench/delta.py has 20,000)."""
CSSEC = [sys.executable, "-m", "cssec"]
CLIENT_ONLY = [
    sys.executable,
    "-c",
    "from cssec.client.cli import app; app(prog_name='cssec client')",
]
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
OWN = """
import os, resource, runpy, sys, time
out = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
sys.argv = ["cssec", *sys.argv[1:]]
start = time.perf_counter()
try:
    runpy.run_module("cssec", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    if exc.code:
        raise
seconds = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
os.write(out, f"{own} {seconds}\\n".encode())
"""
"""Runs `python -m cssec ARGS` in this very process (runpy, as `-m` does) and prints the
peak RSS of that process alone (RUSAGE_SELF), without the children it runs (a pattern's
compiler: measured on its own, `compiler_peak_mb`), and its wall time. Their
RUSAGE_CHILDREN would not tell: Linux keeps the high-water mark across fork and exec, so
a child's peak reads at least its parent's RSS when it started."""
LAUNCH = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)"
"""A small process to start OWN from: a process forked from this bench (over 100 MB, it
imports the vendor) would report the bench's RSS as its own peak, as PEAK's wrapper would."""
COMPILER = [sys.executable, "-P", "-m", "cssec.client.yarac"]
"""The client's pattern compiler, a child of the client's processes (absent before it was one)."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    return env | {"LANG": "en_US.UTF-8", "PYTHONUNBUFFERED": "1"}


def _cssec(*args: str) -> str:
    done = subprocess.run([*CSSEC, *args], capture_output=True, text=True, env=_env(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"cssec {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def peak_rss_mb(args: list[str]) -> float:
    """Peak RSS of one process running `args` (ru_maxrss is in KiB on Linux)."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *args], capture_output=True, text=True, env=_env(), check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[2:5])} failed: {done.stderr.strip()[-2000:]}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def own_peak_mb(args: list[str]) -> tuple[float, float]:
    """Peak RSS of one `cssec ARGS` process alone (children apart), and its wall time."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, sys.executable, "-c", OWN, *args],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed: {done.stderr.strip()[-2000:]}")
    own, seconds = done.stdout.strip().splitlines()[-1].split()
    return int(own) / 1024, float(seconds)


def compiler_peak_mb(pattern: bytes, out: Path) -> float:
    """Peak RSS of the client's compiler child compiling `pattern` (as an update checks it,
    and as an engine's rules are built), started from a small process; 0 when the client
    compiles in its own process."""
    if importlib.util.find_spec("cssec.client.yarac") is None:
        return 0.0
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *COMPILER, str(out)],
        input=json.dumps({"virus_pattern": pattern.decode("utf-8")}),
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    if done.returncode != 0 or not out.is_file():
        raise SystemExit(f"the compiler failed: {done.stderr.strip()[-2000:]}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def _start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [*CSSEC, *args], stdout=handle, stderr=subprocess.STDOUT, env=_env()
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{args[:2]} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{url} did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def idle_rss_mb(proc: subprocess.Popen[bytes], seconds: float) -> float:
    peak = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(1)
    return peak / 2**20


def _pattern_updates(
    root: Path, vendor: Path, server: Path, client: Path
) -> list[tuple[float, float, float]]:
    """The client's update to a pattern of PATTERN_RULES rules (whole file), then to the
    same pattern grown by 1 %, which comes as the delta its server kept: each as the peak
    RSS of the update's own process, its wall time, and the compiler child's peak."""
    steps = []
    for name, data in zip(("n", "n1"), patterns(PATTERN_RULES, 0.01), strict=True):
        path = root / f"pattern-{name}.yar"
        path.write_bytes(data)
        _cssec("vendor", "component", "publish", "virus_pattern", str(path), "--data", str(vendor))
        _cssec("server", "components", "update", "--data", str(server))
        own, seconds = own_peak_mb(["client", "update", "--dir", str(client)])
        steps.append((own, seconds, compiler_peak_mb(data, root / f"pattern-{name}.yarc.z")))
    if "/agent/tuf/targets/deltas/virus_pattern/" not in (root / "server.log").read_text():
        raise SystemExit("the client did not take the delta")
    return steps


def _scans(root: Path, client: Path) -> list[tuple[float, float]]:
    """ScanNow of one clean file, twice, with that pattern: own peak RSS and wall time. The
    first builds the engine's rules from the new components, the second may reuse them."""
    sample = root / "clean.txt"
    sample.write_text("nothing to see\n")
    return [own_peak_mb(["client", "scan", str(sample), "--dir", str(client)]) for _ in "12"]


def verdict(mb: float, target: float) -> str:
    return f"{mb:6.1f} MB  (target <= {target} MB, {mb / target:.2f} of it) -> " + (
        "met" if mb <= target else "MISSED"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s of idle sampling")
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()
    idle = 5.0 if args.quick else args.idle_seconds
    print(machine_line())
    bare = peak_rss_mb([sys.executable, "-c", "pass"])
    print(f"baseline: bare `python -c pass` peak RSS {bare:6.1f} MB")
    with tempfile.TemporaryDirectory(prefix="cssec-bench-mem-") as tmp:
        root = Path(tmp)
        vendor_dir, server_dir = root / "vendor", root / "server"
        contract = _cssec(
            "vendor",
            "contract",
            "new",
            "--customer",
            "bench memory",
            "--seats",
            "10",
            "--data",
            str(vendor_dir),
        )
        key = contract.strip().splitlines()[-1]
        vport, sport = free_port(), free_port()
        vendor_url, server_url = f"http://127.0.0.1:{vport}", f"http://127.0.0.1:{sport}"
        vendor = _start(
            ["vendor", "serve", "--data", str(vendor_dir), "--port", str(vport)],
            f"{vendor_url}/api/v1/health",
            root / "vendor.log",
        )
        try:
            password = root / "admin.pw"
            password.write_text("bench-memory-password\n")
            _cssec(
                "server",
                "install",
                "--data",
                str(server_dir),
                "--vendor-url",
                vendor_url,
                "--registration-key",
                key,
                "--admin-password-file",
                str(password),
                "--vendor-key-fingerprint",
                _cssec("vendor", "keys", "public", "--fingerprint", "--data", str(vendor_dir))
                .strip()
                .splitlines()[-1],
            )
            server = _start(
                # Plain HTTP on loopback: this bench measures memory; bench/tls.py measures TLS.
                [
                    "server",
                    "serve",
                    "--data",
                    str(server_dir),
                    "--port",
                    str(sport),
                    "--insecure-http",
                ],
                f"{server_url}/api/v1/health",
                root / "server.log",
            )
            try:
                time.sleep(2)  # past start-up work (catch-up checks, scheduler)
                server_mb = idle_rss_mb(server, idle)
                vendor_mb = tree_rss(vendor.pid) / 2**20
                client_dir = root / "client"
                install_mb = peak_rss_mb(
                    [*CSSEC, "client", "install", "--server", server_url, "--dir", str(client_dir)]
                )
                status_mb = peak_rss_mb([*CSSEC, "client", "status", "--dir", str(client_dir)])
                update_mb = peak_rss_mb([*CSSEC, "client", "update", "--dir", str(client_dir)])
                lazy_status_mb = peak_rss_mb([*CLIENT_ONLY, "status", "--dir", str(client_dir)])
                lazy_update_mb = peak_rss_mb([*CLIENT_ONLY, "update", "--dir", str(client_dir)])
                # The vendor moves to TUF, the server follows; the client's next update moves
                # it to TUF too (python-tuf against the server's mirror), then TUF alone.
                root_keys = root / "offline-root-keys"
                _cssec("vendor", "keys", "root", "init", "--out", str(root_keys))
                _cssec("vendor", "tuf", "root", "install", "--root-keys", str(root_keys),
                       "--data", str(vendor_dir))  # fmt: skip
                _cssec("server", "components", "update", "--data", str(server_dir))
                moving_mb = peak_rss_mb([*CSSEC, "client", "update", "--dir", str(client_dir)])
                if not (client_dir / "tuf" / "root.json").is_file():
                    raise SystemExit("the client did not move to TUF")
                tuf_update_mb = peak_rss_mb([*CSSEC, "client", "update", "--dir", str(client_dir)])
                tuf_lazy_mb = peak_rss_mb([*CLIENT_ONLY, "update", "--dir", str(client_dir)])
                whole, delta = _pattern_updates(root, vendor_dir, server_dir, client_dir)
                (scan_mb, scan_s), (rescan_mb, rescan_s) = _scans(root, client_dir)
            finally:
                _stop(server)
        finally:
            _stop(vendor)
    print(f"idle server (`cssec server serve`, {idle:.0f} s idle, peak of 1 s samples)")
    print(f"  RSS     {verdict(server_mb, SERVER_TARGET_MB)}  ({server_mb / bare:.1f}x bare)")
    print(f"  (for reference: the vendor, one process after the install: {vendor_mb:.1f} MB)")
    client_mb = max(status_mb, update_mb, moving_mb, tuf_update_mb)
    print("client (no daemon yet: peak RSS of whole command processes)")
    print(f"  cssec client install  {install_mb:6.1f} MB  (one-off; it also downloads components)")
    print(f"  cssec client status   {status_mb:6.1f} MB")
    print(f"  cssec client update   {update_mb:6.1f} MB  (signed manifest)")
    print(f"  cssec client update   {moving_mb:6.1f} MB  (moving to TUF: endorsement, refresh)")
    print(f"  cssec client update   {tuf_update_mb:6.1f} MB  (TUF against the server's mirror)")
    print(f"  status/update peak {verdict(client_mb, CLIENT_TARGET_MB)}  ({client_mb / bare:.1f}x)")
    print("  the same through the client's own Typer app (what a `cssec` that imported only the")
    print(
        f"  named part would cost): status {lazy_status_mb:.1f} MB, update {lazy_update_mb:.1f} MB"
        f", update through TUF {tuf_lazy_mb:.1f} MB"
    )
    (whole_own, whole_s, whole_child), (delta_own, delta_s, delta_child) = whole, delta
    whole_mb, delta_mb = max(whole_own, whole_child), max(delta_own, delta_child)
    print(f"  a larger pattern ({PATTERN_RULES:,} rules, about 315 KB), through TUF: update to it")
    print(f"  (whole file) {whole_mb:.1f} MB; to it +1 % (the delta) {delta_mb:.1f} MB; the delta")
    print(f"  costs {delta_mb - whole_mb:+.1f} MB over the whole file (YARA compiling the pattern,")
    print("  on either path, is what grows with the pattern; the budget above is for the seed's)")
    print(f"  the update's own process: {whole_own:.1f} MB, {whole_s:.2f} s (whole file);")
    print(f"  {delta_own:.1f} MB, {delta_s:.2f} s (delta); the compiler child it runs: ", end="")
    print(f"{whole_child:.1f} MB" if whole_child else "none (it compiles in its own process)")
    print(f"  ScanNow of one file with it: {scan_mb:.1f} MB, {scan_s:.2f} s (first after the")
    print(f"  update); {rescan_mb:.1f} MB, {rescan_s:.2f} s (next); own process, children apart")
    client_only_mb = max(lazy_status_mb, lazy_update_mb, tuf_lazy_mb)
    print(
        f"RESULT server_mb={server_mb:.1f} client_mb={client_mb:.1f} install_mb={install_mb:.1f} "
        f"bare_mb={bare:.1f} client_only_mb={client_only_mb:.1f} tuf_update_mb={tuf_update_mb:.1f} "
        f"whole_pattern_mb={whole_mb:.1f} delta_pattern_mb={delta_mb:.1f} "
        f"whole_pattern_own_mb={whole_own:.1f} delta_pattern_own_mb={delta_own:.1f} "
        f"compiler_mb={whole_child:.1f} whole_pattern_s={whole_s:.2f} "
        f"delta_pattern_s={delta_s:.2f} scan_mb={scan_mb:.1f} rescan_mb={rescan_mb:.1f} "
        f"scan_s={scan_s:.2f} rescan_s={rescan_s:.2f}"
    )


if __name__ == "__main__":
    main()
