"""Login lockout without denial of service, for the console and the Web manager alike.

Why this design. A per-account lockout (N failures lock the account for M minutes) is a
switch anyone can flip: whoever knows a name locks its owner out, and every C/S Sec.
server has the one well-known account `admin`. A per-address limit alone is dodged by
changing address (127.0.0.2, 127.0.0.3 … on loopback, a botnet elsewhere). So, as
django-axes (lockout by user name *and* address), OWASP's "device cookie" scheme and the
large sign-in services do, failures are counted per (name, source):

1. **Per (name, source), exponential back-off.** After `max_failures` failures of a name
   from one source, that source is refused for that name, even with the right password,
   for `lockout`; every further failure once it has passed doubles it (15, 30, 60 minutes
   … up to `max_lockout`). Only that source: the owner signing in from another address
   is never locked out by somebody else's guesses. A success clears the source's count;
   a day without failures forgets it.
2. **Per name, a ceiling that only delays.** Changing address buys `max_failures` guesses
   per address, so each name also counts its failures from every source over `window`.
   Past `ceiling` of them, each failure makes its source wait `ceiling_delay` (doubling
   for every further `ceiling` failures, up to `max_ceiling_delay`) before it may try that
   name again. A delay, not a lock: a source's first attempt is always checked, so the
   owner's right password still signs in during an attack, while a distributed guesser
   gets one guess per address per delay (and per-address rate limits on top).

A refused attempt is not counted and does the same password work as a checked one, so its
timing tells nothing. Names are counted whether or not an account has them (keyed by a
hash of the name exactly as the account lookup compares it): the answers never tell which
names exist. An IPv6 source counts per /64, what one host can pick its addresses from.

`LoginThrottle` keeps the counts in memory, bounded (the least recently failed are
forgotten first): each process its own, and a restart forgives them. The apps use
`cssec.web.lockout_db.DbLoginThrottle`, the same rules with the counts in their database,
so a vendor serving with N workers allows no more failures than one, and a restart keeps
them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from cssec.web.security import verify_password


@dataclass(frozen=True)
class LockoutRule:
    max_failures: int = 5
    """Failures of a name from one source before that source is refused for it."""
    lockout: timedelta = timedelta(minutes=15)
    """The first refusal; each further failure after it doubles it."""
    max_lockout: timedelta = timedelta(hours=24)
    """The longest a source is refused for a name."""
    ceiling: int = 20
    """Failures of a name from all sources within `window` before every failure delays."""
    window: timedelta = timedelta(hours=1)
    ceiling_delay: timedelta = timedelta(seconds=30)
    """The delay past the ceiling; doubles for every further `ceiling` failures."""
    max_ceiling_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)
    """A source's count is forgotten after this long without a failure."""


class Outcome(Enum):
    SIGNED_IN = "signed_in"
    FAILED = "failed"
    REFUSED = "refused"
    """Not checked: the source is still waiting for its back-off or delay to end."""


@dataclass(frozen=True)
class LoginAttempt:
    outcome: Outcome
    retry_after: int | None = None
    """Seconds before this source may try this name again (None: at once)."""
    locked: bool = False
    """This failure started a lock (the source reached `max_failures`): worth a log line."""


@dataclass
class _Source:
    failures: int = 0
    blocked_until: datetime | None = None
    last_failure: datetime | None = None


@dataclass
class _Name:
    failures: deque[datetime] = field(default_factory=deque)


def source_of(address: str) -> str:
    """The unit a source is counted in: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _doubled(base: timedelta, times: int, cap: timedelta) -> timedelta:
    longer: timedelta = base * (2 ** min(times, 32))
    return min(longer, cap)


class LoginThrottle:
    """The counts of one app (see the module docstring); safe to share between threads."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._sources: OrderedDict[tuple[str, str], _Source] = OrderedDict()
        self._names: OrderedDict[str, _Name] = OrderedDict()
        self._mutex = threading.Lock()

    @staticmethod
    def _key(name: str) -> str:
        return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()

    def refused_for(self, name: str, address: str, *, now: datetime) -> int | None:
        """Seconds this source must still wait before trying `name`, or None."""
        with self._mutex:
            entry = self._sources.get((self._key(name), source_of(address)))
            until = entry.blocked_until if entry is not None else None
        return _seconds(until - now) if until is not None and until > now else None

    def fail(self, name: str, address: str, *, now: datetime, rule: LockoutRule) -> LoginAttempt:
        """Count one failed attempt; how long its source must now wait."""
        pair = (self._key(name), source_of(address))
        with self._mutex:
            entry = self._sources.pop(pair, None) or _Source()
            if entry.last_failure is not None and now - entry.last_failure > rule.forget_after:
                entry = _Source()
            entry.failures += 1
            entry.last_failure = now
            recent = self._names.pop(pair[0], None) or _Name()
            recent.failures.append(now)
            while recent.failures and recent.failures[0] <= now - rule.window:
                recent.failures.popleft()
            while len(recent.failures) > rule.ceiling * 8:
                recent.failures.popleft()
            wait = timedelta(0)
            locked = entry.failures >= rule.max_failures
            if locked:
                beyond = entry.failures - rule.max_failures
                wait = _doubled(rule.lockout, beyond, rule.max_lockout)
            if len(recent.failures) > rule.ceiling:
                steps = (len(recent.failures) - rule.ceiling - 1) // rule.ceiling
                wait = max(wait, _doubled(rule.ceiling_delay, steps, rule.max_ceiling_delay))
            entry.blocked_until = now + wait if wait else None
            self._sources[pair] = entry
            self._names[pair[0]] = recent
            for table in (self._sources, self._names):
                while len(table) > self.MAX_ENTRIES:
                    table.popitem(last=False)
        return LoginAttempt(Outcome.FAILED, _seconds(wait) if wait else None, locked)

    def succeed(self, name: str, address: str) -> None:
        """The source signed in: its count starts again (the name's ceiling count stays)."""
        with self._mutex:
            self._sources.pop((self._key(name), source_of(address)), None)


def attempt_login(
    throttle: LoginThrottle,
    name: str,
    address: str,
    password_hash: str | None,
    password: str,
    *,
    now: datetime,
    rule: LockoutRule,
) -> LoginAttempt:
    """One sign-in attempt of `name` from `address` against the account's `password_hash`
    (None: there is no such account, and the attempt fails like a wrong password).

    The password is verified in every case, refused or not, account or not, so the time an
    answer takes tells nothing."""
    password_ok = verify_password(password_hash, password)
    waiting = throttle.refused_for(name, address, now=now)
    if waiting is not None:
        return LoginAttempt(Outcome.REFUSED, waiting)
    if password_ok:
        throttle.succeed(name, address)
        return LoginAttempt(Outcome.SIGNED_IN)
    return throttle.fail(name, address, now=now, rule=rule)
