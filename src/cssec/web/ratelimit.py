"""Per-key rate limits on public endpoints, with the `limits` library.

Memory storage by default; a `redis://` URI shares the counters between workers. A key
that is an IP address counts per network as the sign-in lockout does (`lockout.source_of`:
an IPv6 address by its /64, which one host picks its addresses from; counted address by
address, a client would step around every per-address limit by changing its address).
"""

from __future__ import annotations

import functools
import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cssec.core.errors import RateLimited
from cssec.web.lockout import source_of


@functools.lru_cache(maxsize=64)
def _parse(limit: str) -> RateLimitItem:
    """Parsed once per limit string (parsing costs more than a memory-storage hit)."""
    return parse(limit)


def _counted(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(source_of(key) if ":" in key or key[:1].isdigit() else key for key in keys)


class RateLimiter:
    def __init__(self, storage_uri: str = "memory://") -> None:
        self._storage = storage_from_string(storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)

    def hit(self, limit: str, *keys: str) -> None:
        """Count one request against `limit` (e.g. "30/minute"); raise RateLimited when over."""
        item = _parse(limit)
        keys = _counted(keys)
        if self._limiter.hit(item, *keys):
            return
        stats = self._limiter.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(retry_after=retry_after)

    def clear(self, limit: str, *keys: str) -> None:
        self._limiter.clear(_parse(limit), *_counted(keys))

    def reset(self) -> None:
        self._storage.reset()
