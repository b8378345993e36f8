"""How much a policy decision costs next to the cheapest thing it could be: a dict lookup.

`decide` sits on hot paths (every component handed to every client), so it must stay a
table lookup. Both loops below walk the same (state, operation) keys in the same shape,
so the ratio measures what `decide` adds on top of the lookup: one function call.
Targets: <= 1 µs per decision and <= 10x the plain lookup.
"""

from __future__ import annotations

import timeit

from cssec.core.license import LicenseState
from cssec.core.policy import Operation, decide

REPEAT = 7
TARGET_NS = 1_000.0
TARGET_RATIO = 10.0


def _best_ns_per_item(stmt: str, namespace: dict[str, object], items: int) -> float:
    timer = timeit.Timer(stmt, globals=namespace)
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=REPEAT, number=number))
    return best / number / items * 1e9


def bench_policy() -> None:
    pairs = [(state, op) for state in LicenseState for op in Operation]
    plain = {pair: object() for pair in pairs}
    namespace: dict[str, object] = {"pairs": pairs, "decide": decide, "plain": plain}

    per_decision = _best_ns_per_item("for s, o in pairs: decide(s, o)", namespace, len(pairs))
    per_lookup = _best_ns_per_item("for s, o in pairs: plain[s, o]", namespace, len(pairs))
    ratio = per_decision / per_lookup

    print(f"policy: {len(pairs)} (state, operation) pairs, best of {REPEAT}")
    print(f"  decide(state, op): {per_decision:8.1f} ns/decision (target <= {TARGET_NS:.0f})")
    print(f"  dict lookup:       {per_lookup:8.1f} ns/lookup")
    print(f"  ratio:             {ratio:8.2f}x (target <= {TARGET_RATIO:.0f}x)")
    verdict = per_decision <= TARGET_NS and ratio <= TARGET_RATIO
    print(f"  {'within targets' if verdict else 'OUTSIDE TARGETS'}")


if __name__ == "__main__":
    bench_policy()
