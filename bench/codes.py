"""Throughput of the code formats, against baselines measured in the same run.

Run: ``.venv/bin/python bench/codes.py`` (one process, so every rate is per core).
The vendor parses and MAC-checks every activation code a server sends, so the figure that
matters is parse + verify next to a bare HMAC-SHA256 over the same bytes: the MAC is work
that cannot be avoided, everything else is overhead the parser adds. Rates are the best of
several rounds, because the machine is shared and noise only ever slows a round down.
"""

from __future__ import annotations

import hmac
import importlib
import os
import random
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from cssec.core import _mac, codes
from cssec.core.license import Product

CODES = 5_000
ROUNDS = 9


Run = tuple[Callable[[Sequence[Any]], None], Sequence[Any]]


def _best_rates(runs: Sequence[Run]) -> list[float]:
    """Items per second for each run, best of ROUNDS, rounds interleaved.

    Interleaving gives every run the same share of whatever else the machine is doing, so
    the ratios hold even when the absolute rates wander.
    """
    best = [float("inf")] * len(runs)
    for _ in range(ROUNDS):
        for i, (run, items) in enumerate(runs):
            start = time.perf_counter()
            run(items)
            best[i] = min(best[i], time.perf_counter() - start)
    return [len(items) / elapsed for (_, items), elapsed in zip(runs, best, strict=True)]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def bench_parse() -> None:
    rng = random.Random(20240401)
    keys = {kid: rng.randbytes(32) for kid in range(4)}
    issued = [
        codes.encode_activation_code(
            product=rng.choice(list(Product)),
            seats=rng.randint(1, 5_000),
            expires_on=date(2025, 1, 1) + timedelta(days=rng.randrange(3 * 365)),
            serial=rng.getrandbits(32),
            key=codes.MacKey(kid, keys[kid]),
        )
        for kid in (rng.randrange(4) for _ in range(CODES))
    ]
    texts = [code.formatted for code in issued]
    signed = [(keys[code.kid], codes._ac_mac_input(code)) for code in issued]

    def parse_and_verify(items: Sequence[str]) -> None:
        for text in items:
            value = codes.parse_activation_code(text).value
            if value is None or not codes.verify_activation_code_mac(value, keys):
                raise SystemExit(f"bench input did not verify: {text}")

    def parse_only(items: Sequence[str]) -> None:
        for text in items:
            codes.parse_activation_code(text)

    def bare_hmac(items: Sequence[tuple[bytes, bytes]]) -> None:
        for secret, message in items:
            hmac.digest(secret, message, "sha256")

    def keyed_hmac(items: Sequence[tuple[bytes, bytes]]) -> None:
        for secret, message in items:
            _mac.hmac_sha256(secret, message)

    full, parsed, bare, keyed = _best_rates(
        [(parse_and_verify, texts), (parse_only, texts), (bare_hmac, signed), (keyed_hmac, signed)]
    )
    print(f"activation codes, {CODES} distinct, best of {ROUNDS} rounds, one core, {_load()}")
    print(f"  parse + verify MAC          {full:12,.0f} codes/s   (target >= 200,000)")
    print(f"  parse only                  {parsed:12,.0f} codes/s")
    print(f"  bare hmac.digest, same bytes{bare:12,.0f} MACs/s")
    print(f"  ratio parse+verify / bare   {full / bare:12.2f}         (target >= 0.5)")
    print(f"  HMAC, key state precomputed {keyed:12,.0f} MACs/s   (what verify uses)")
    print(f"  ratio parse+verify / that   {full / keyed:12.2f}")


def _policy_bench() -> Callable[[], None] | None:
    """bench/_policy.py's bench_policy, when that part has landed."""
    try:
        module = importlib.import_module("_policy")
    except ImportError as exc:
        if exc.name != "_policy":
            raise
        return None
    bench: Callable[[], None] = module.bench_policy
    return bench


def main() -> None:
    bench_parse()
    bench_policy = _policy_bench()
    if bench_policy is not None:
        bench_policy()


if __name__ == "__main__":
    main()
