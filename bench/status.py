"""The vendor's status check under load, against a bare ASGI hello served the same way.

Run: ``.venv/bin/python bench/status.py [--quick] [--seconds 20] [--no-pg] [--server granian]``

For SQLite and PostgreSQL (a throwaway database, dropped afterwards; skipped with the
reason when the server does not answer): a vendor seeded with 20,000 contracts through
bulk issuance, served as `cssec vendor serve --workers 2` serves it (`cssec.web.serving`),
loaded by wrk with 64 connections cycling through 1,000 different activation codes and
server ids (`POST /api/v1/status`: MAC check, one indexed read joining code, contract,
customer and product, an Ed25519 signature, and the status-check row queued for the
batched history writer, `services.status_log`). Then `_hello:app`,
served by the same server with the same workers, gets the same requests.
ratio = vendor req/s / bare req/s.

Targets (issue #7): ratio >= 0.6; p99 <= 25 ms. The per-IP status limit is raised for the
run (CSSEC_VENDOR_STATUS_RATE_LIMIT, see http_load.RAISED_LIMITS): one load generator
is one IP.
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

RATIO_TARGET = 0.6
P99_TARGET_MS = 25.0


def status_requests(codes: list[str]) -> list[Request]:
    bodies = [{"activation_code": c, "server_id": server_id(i)} for i, c in enumerate(codes)]
    return [Request("POST", "/api/v1/status", json.dumps(b)) for b in bodies]


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
            requests = status_requests(seeded.activation_codes)
            name = (
                f"status check, {seeded.label}, {args.server} x{args.workers} workers, "
                f"{len(requests)} codes of {contracts:,} contracts"
            )
            comparison = measure_against_hello(name, seeded, requests, args)
            report(comparison, ratio_target=RATIO_TARGET, p99_target_ms=P99_TARGET_MS)


if __name__ == "__main__":
    main()
