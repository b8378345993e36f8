"""Each slot's state as every policy gate sees it: the one computation, so that no gate can
forget the clock guard or another product's slot.

The day is taken from max(now, latest time seen) (`clockguard`), so setting the clock back
cannot take a license from grace or expired into activated, whichever gate asks. No C/S Sec.
slot counts as expired: nothing that a lapse stops is allowed without a license.

`license_states` reads every slot; `license_decision` / `check_license` are what a gate
asks (`core.policy.decide_all`: refused if any product that governs the operation refuses
it, naming that product). `cs_license_state` stays for the callers that pass the C/S Sec.
state along to operations only C/S Sec. governs.

It reads and never writes. The log gate runs inside other work (an append sits in its
caller's transaction, and the clock guard's own rollback event is such an append), so
recording the time seen stays with the readers that own their session: `view.read_licenses`
(every Web manager page and API read) and the scheduler's tick, at least once a minute.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product, slot_license_state
from cssec.core.policy import Decision, Operation, decide_all
from cssec.server.models import LicenseSlot, ServerInfo

__all__ = [
    "check_license",
    "cs_license_state",
    "guarded",
    "license_decision",
    "license_states",
    "slot_state",
]


def slot_state(slot: LicenseSlot, today: date) -> LicenseState:
    """A slot's state on `today` (`core.license.slot_license_state`): revoked or rejected
    when the vendor said so in a signed, nonce-bound statement for this very code
    (`refusals.CodeRevoked`, `refusals.CodeRejected`); otherwise from the expiry and
    grace, `unconfirmed` while no vendor statement has confirmed the code."""
    return slot_license_state(
        slot.expires_on,
        slot.grace_days,
        today,
        revoked=slot.revoked_at is not None,
        rejected=slot.rejected_at is not None,
        confirmed=slot.confirmed_online,
    )


def guarded(now: datetime, latest_seen: datetime) -> datetime:
    """The time a license is judged by: a clock set back counts as the latest time seen."""
    return max(now, latest_seen)


def _today(session: Session, now: datetime, tz: tzinfo) -> date:
    info = session.get(ServerInfo, 1)
    at = guarded(now, info.latest_seen) if info is not None else now
    return at.astimezone(tz).date()


def license_states(session: Session, *, now: datetime, tz: tzinfo) -> dict[Product, LicenseState]:
    """Every slot's state on the server's local day of max(now, latest seen)."""
    today = _today(session, now, tz)
    return {
        Product(slot.product): slot_state(slot, today)
        for slot in session.scalars(select(LicenseSlot)).all()
    }


def cs_license_state(session: Session, *, now: datetime, tz: tzinfo) -> LicenseState:
    """The C/S Sec. slot's state on the server's local day of max(now, latest seen)."""
    return license_states(session, now=now, tz=tz).get(Product.CS, LicenseState.EXPIRED)


def license_decision(
    session: Session, operation: Operation, *, now: datetime, tz: tzinfo
) -> Decision:
    """The policy's answer for `operation` on this server, every slot considered."""
    return decide_all(license_states(session, now=now, tz=tz), operation)


def check_license(session: Session, operation: Operation, *, now: datetime, tz: tzinfo) -> None:
    """Raise the policy's refusal (`license_expired`, `license_revoked`, `license_rejected`,
    naming the product) when this server may not do `operation`."""
    license_decision(session, operation, now=now, tz=tz).raise_if_refused()
