"""The ActiveUpdate manifest poll under load, against a bare ASGI hello served the same way.

Run: ``.venv/bin/python bench/manifest.py [--quick] [--seconds 20] [--no-pg] [--server granian]``

The fleet's hourly load: 1M servers polling once an hour is about 280 req/s, and one node
should hold 10x that. Set-up as in status.py (20,000 contracts, uvicorn with 2 workers,
wrk with 64 connections cycling through 1,000 different activation codes), on
`POST /api/v1/activeupdate/manifest`: MAC check, the contract's standing, the policy
decision, and the signed manifest (cached per serial and key; the serial re-read at most
once a second). Measured twice:

- "every poll reads its code" (CSSEC_VENDOR_ACTIVEUPDATE_ENTITLEMENT_TTL=0): one indexed
  read of the code's contract per request. This is the fleet's real path: a server polls
  hourly, long after its entitlement left the 60 s cache.
- "entitlement cached": the default TTL (60 s). The 1,000 codes cycle within it, so this
  measures the cache-hit path (no database, no thread).

Each against `_hello:app` with the same requests. ratio = vendor req/s / bare req/s.

Target (issue #7): ratio >= 0.8; also reported: the 2,800 req/s a node should hold.
The per-IP ActiveUpdate limit is raised for the run (CSSEC_VENDOR_ACTIVEUPDATE_RATE_LIMIT).
"""

from __future__ import annotations

import json

from http_load import (
    Request,
    common_args,
    machine_line,
    measure_against_hello,
    postgres_reachable,
    report,
    seeded_vendor,
    server_id,
)

RATIO_TARGET = 0.8
FLEET_RPS = 2_800  # 10 x (1,000,000 servers / 3,600 s)


def manifest_requests(codes: list[str]) -> list[Request]:
    return [
        Request(
            "POST",
            "/api/v1/activeupdate/manifest",
            json.dumps({"activation_code": c, "server_id": server_id(i)}),
        )
        for i, c in enumerate(codes)
    ]


def main() -> None:
    args = common_args(__doc__.split("\n\n")[0]).parse_args()
    print(machine_line())
    contracts = 2_000 if args.quick else 20_000
    databases = [] if args.no_sqlite else [False]
    if not args.no_pg:
        why = postgres_reachable()
        if why is None:
            databases.append(True)
        else:
            print(f"PostgreSQL: skipped, cannot connect: {why}")
    for postgres in databases:
        with seeded_vendor(postgres=postgres, contracts=contracts) as seeded:
            requests = manifest_requests(seeded.activation_codes)
            for path, ttl in (("every poll reads its code", "0"), ("entitlement cached", "60")):
                name = (
                    f"ActiveUpdate manifest poll, {path}, {seeded.label}, {args.server} "
                    f"x{args.workers} workers, {len(requests)} codes of {contracts:,} contracts"
                )
                env = {"CSSEC_VENDOR_ACTIVEUPDATE_ENTITLEMENT_TTL": ttl}
                comparison = measure_against_hello(name, seeded, requests, args, env=env)
                report(comparison, ratio_target=RATIO_TARGET)
                rps = comparison.endpoint.rps
                verdict = "holds" if rps >= FLEET_RPS else "SHORT"
                print(f"  fleet: {rps:,.0f} req/s vs {FLEET_RPS:,} req/s (10x 1M) -> {verdict}")


if __name__ == "__main__":
    main()
