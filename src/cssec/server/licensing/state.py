"""The C/S Sec. slot's state as every policy gate sees it: the one computation, so that no
gate can forget the clock guard.

The day is taken from max(now, latest time seen) (`clockguard`), so setting the clock back
cannot take a license from grace or expired into activated, whichever gate asks. No slot
counts as expired: nothing that a lapse stops is allowed without a license.

It reads and never writes. The log gate runs inside other work (an append sits in its
caller's transaction, and the clock guard's own rollback event is such an append), so
recording the time seen stays with the readers that own their session: `view.read_licenses`
(every Web manager page and API read) and the scheduler's tick, at least once a minute.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product, license_state
from cssec.server.models import LicenseSlot, ServerInfo

__all__ = ["cs_license_state", "guarded", "slot_state"]


def slot_state(slot: LicenseSlot, today: date) -> LicenseState:
    """A slot's state on `today`: revoked when the vendor said so in a signed, nonce-bound
    statement (`activation.CodeRevoked`); otherwise from the expiry and grace."""
    if slot.revoked_at is not None:
        return LicenseState.REVOKED
    return license_state(slot.expires_on, slot.grace_days, today)


def guarded(now: datetime, latest_seen: datetime) -> datetime:
    """The time a license is judged by: a clock set back counts as the latest time seen."""
    return max(now, latest_seen)


def cs_license_state(session: Session, *, now: datetime, tz: tzinfo) -> LicenseState:
    """The C/S Sec. slot's state on the server's local day of max(now, latest seen)."""
    slot = session.scalars(
        select(LicenseSlot).where(LicenseSlot.product == Product.CS.value)
    ).first()
    if slot is None:
        return LicenseState.EXPIRED
    info = session.get(ServerInfo, 1)
    at = guarded(now, info.latest_seen) if info is not None else now
    return slot_state(slot, at.astimezone(tz).date())
