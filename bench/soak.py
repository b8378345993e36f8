"""Soak: a bounded, mixed load on the vendor for --minutes, with 0 errors and flat memory.

Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--quick] [--connections 16] [--pg]``

A vendor seeded with 20,000 contracts (SQLite, or a throwaway PostgreSQL database with
--pg), served by uvicorn with 2 workers on loopback, gets a fixed number of concurrent
connections (bounded: a closed loop, so the load never outruns the service) for the whole
run. The requests cycle through a mix of 1,000 contracts: per 19 requests, 9 status
checks, 9 ActiveUpdate manifest polls and 1 online registration (idempotent: the same
key and server id again, which still writes). Every 10 s the resident memory of the
vendor's process tree is sampled.

Pass: no error of any kind (socket errors, timeouts, non-2xx answers), and flat memory:
the RSS at the end within 10% (and 20 MB) of the RSS after the first tenth of the run
(warm-up: caches, pools, thread pool). The per-IP limits are raised for the run.
`--quick` runs 1 minute.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from http_load import (
    LoadResult,
    Request,
    check_ok,
    drive,
    machine_line,
    seeded_vendor,
    serve,
    server_id,
    tree_rss,
)

GROWTH_LIMIT = 0.10
GROWTH_LIMIT_MB = 20.0
SAMPLE_SECONDS = 10.0


def mixed_requests(codes: list[str], keys: list[str]) -> list[Request]:
    out: list[Request] = []
    for i, (code, key) in enumerate(zip(codes, keys, strict=True)):
        body = json.dumps({"activation_code": code, "server_id": server_id(i)})
        out.append(Request("POST", "/api/v1/status", body))
        out.append(Request("POST", "/api/v1/activeupdate/manifest", body))
        if i % 9 == 0:
            registration = {
                "registration_key": key,
                "company": f"Bench {i} K.K.",
                "contact_email": f"it{i}@example.com",
                "server_id": server_id(i),
            }
            out.append(Request("POST", "/api/v1/registrations", json.dumps(registration)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--quick", action="store_true", help="1 minute")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--driver", choices=["wrk", "httpx"], default=None)
    args = parser.parse_args()
    seconds = 60.0 if args.quick else args.minutes * 60
    print(machine_line())
    with seeded_vendor(postgres=args.pg) as seeded:
        requests = mixed_requests(seeded.activation_codes, seeded.registration_keys)
        with serve(
            "cssec.vendor_service.app:create_app_from_environment",
            env=seeded.env,
            workers=args.workers,
            factory=True,
            ready_path="/api/v1/health",
        ) as (base, proc):
            check_ok(base, requests[:30])
            result: list[LoadResult] = []
            runner = threading.Thread(
                target=lambda: result.append(
                    drive(
                        base,
                        requests,
                        seconds=seconds,
                        connections=args.connections,
                        driver=args.driver,
                    )
                )
            )
            samples: list[tuple[float, float]] = []
            started = time.monotonic()
            runner.start()
            while runner.is_alive():
                samples.append((time.monotonic() - started, tree_rss(proc.pid) / 2**20))
                runner.join(SAMPLE_SECONDS)
            if not result:
                raise SystemExit("the load generator failed")
    load = result[0]
    warm = next((mb for t, mb in samples if t >= seconds / 10), samples[0][1])
    end = samples[-1][1]
    peak = max(mb for _, mb in samples)
    growth = end - warm
    flat = growth <= max(GROWTH_LIMIT * warm, 0) and growth <= GROWTH_LIMIT_MB
    ok = load.errors == 0 and flat
    mix = "9 status : 9 manifest : 1 registration per 19"
    print(f"soak, {seeded.label}, uvicorn x{args.workers}, {seconds / 60:.1f} min, {mix}")
    print(f"  {load.line()}")
    print(
        f"  RSS (vendor tree): after warm-up {warm:.1f} MB, end {end:.1f} MB, peak {peak:.1f} MB, "
        f"growth {growth:+.1f} MB ({growth / warm:+.1%})"
    )
    trail = ", ".join(f"{mb:.0f}" for _, mb in samples[:: max(1, len(samples) // 12)])
    print(f"  RSS samples (MB, every {SAMPLE_SECONDS * max(1, len(samples) // 12):.0f} s): {trail}")
    print(
        f"  errors {load.errors} (target 0); memory {'flat' if flat else 'GROWING'} -> "
        f"{'met' if ok else 'MISSED'}"
    )
    summary = {
        "minutes": seconds / 60,
        "rps": round(load.rps),
        "requests": load.requests,
        "errors": load.errors,
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "rss_warm_mb": round(warm, 1),
        "rss_end_mb": round(end, 1),
        "rss_peak_mb": round(peak, 1),
        "met": ok,
        "load": load.load,
    }
    print("RESULT " + json.dumps(summary))


if __name__ == "__main__":
    main()
