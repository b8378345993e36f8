"""Status checks through nginx to two vendor nodes, against one node asked directly, same run.

Run: ``.venv/bin/python bench/scale.py [--quick] [--seconds 10] [--connections 32]``

A throwaway PostgreSQL database seeded with 20,000 contracts (2,000 with --quick), two
`cssec vendor serve` nodes (one worker each) configured as deploy/env/vendor.env.example
configures them (Redis rate limits when Redis answers on 127.0.0.1:6379, durable
status-check history, trusted proxy), and Debian's nginx (one worker) balancing over both
(tests/helpers/nginx.py: the site of deploy/nginx without TLS). wrk sends the same
status checks (1,000 codes and server ids) to node A directly, then through nginx, in
interleaved rounds (the median of each kept). ratio = through nginx / direct.

On a machine with two cores this shows what the balancer costs, not how the nodes scale:
wrk, nginx and both nodes share the same two cores, so the second node adds no CPU. On
N hosts each node brings its own.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.helpers: the nginx and process helpers of the tests

from tests.helpers.nginx import nginx_binary, running_nginx  # noqa: E402
from tests.helpers.processes import cssec_env, reaped, start_cssec, wait_answering  # noqa: E402

from http_load import (  # noqa: E402
    common_args,
    drive,
    free_port,
    machine_line,
    postgres_reachable,
    seeded_vendor,
)
from status import status_requests  # noqa: E402

REDIS = "redis://127.0.0.1:6379/12"


def redis_answers() -> bool:
    import redis  # noqa: PLC0415

    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def main() -> None:
    parser = common_args(__doc__.split("\n\n")[0])
    parser.set_defaults(seconds=10.0, connections=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved, medians kept")
    parser.add_argument(
        "--batched-history", action="store_true", help="status_log_durable off (the default)"
    )
    args = parser.parse_args()
    print(machine_line())
    why = postgres_reachable()
    if why is not None or nginx_binary() is None or shutil.which("wrk") is None:
        print(f"skipped: needs PostgreSQL ({why or 'ok'}), Debian's nginx and wrk")
        return
    contracts = 2_000 if args.quick else 20_000
    with seeded_vendor(postgres=True, contracts=contracts) as seeded, ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cssec-scale-")))
        extra = {
            "CSSEC_VENDOR_TRUSTED_PROXIES": "127.0.0.1",
            "CSSEC_VENDOR_STATUS_LOG_DURABLE": "false" if args.batched_history else "true",
            "CSSEC_VENDOR_BACKGROUND_JOBS": "false",
        }
        limits = "memory (Redis not reachable)"
        if redis_answers():
            extra["CSSEC_VENDOR_RATE_LIMIT_STORAGE"] = REDIS
            limits = "Redis"
        env = cssec_env(**seeded.env, **extra)
        ports = [free_port(), free_port()]
        for name, port in zip("ab", ports, strict=True):
            log = tmp / f"{name}.log"
            args_ = ["vendor", "serve", "--data", str(seeded.data_dir), "--port", str(port)]
            process = stack.enter_context(reaped(start_cssec(args_, log, env)))
            wait_answering(f"http://127.0.0.1:{port}/readyz", process, log)
        nginx = stack.enter_context(running_nginx(tmp / "nginx", port=free_port(), upstreams=ports))
        requests = status_requests(seeded.activation_codes)
        kw = {"seconds": args.seconds, "connections": args.connections, "threads": 1}
        # Interleaved rounds, the median of each: the machine's load drifts.
        directs, balanceds = [], []
        for _ in range(args.rounds):
            directs.append(
                drive(f"http://127.0.0.1:{ports[0]}", requests, driver=args.driver, **kw)
            )
            balanceds.append(drive(nginx.url, requests, driver=args.driver, **kw))
        direct = sorted(directs, key=lambda r: r.rps)[len(directs) // 2]
        balanced = sorted(balanceds, key=lambda r: r.rps)[len(balanceds) // 2]
        print(
            f"status check, PostgreSQL ({contracts:,} contracts), 1 worker per node, "
            f"rate limits in {limits}, "
            f"{'batched' if args.batched_history else 'durable'} history"
        )
        print(f"  one node, direct       {direct.line()}")
        print(f"  nginx -> two nodes     {balanced.line()}")
        ratio = balanced.rps / direct.rps
        pairs = zip(directs, balanceds, strict=True)
        rounds = ", ".join(f"{d.rps:.0f}/{b.rps:.0f}" for d, b in pairs)
        print(f"  rounds (direct/nginx req/s): {rounds}")
        print(f"  ratio {ratio:.2f} (two cores shared by everything: the balancer's cost)")
        print(
            'RESULT {"name": "status via nginx, 2 nodes vs 1 direct", '
            f'"rps": {balanced.rps:.0f}, "direct_rps": {direct.rps:.0f}, "ratio": {ratio:.3f}, '
            f'"errors": {balanced.errors}, "direct_errors": {direct.errors}}}'
        )


if __name__ == "__main__":
    main()
