"""The policy gate of the low-level log appends (system event log, connection status log,
update log (server)): they are written inside other work, where no license state is at
hand, so the gate reads the C/S Sec. slot in the same session.

The day is counted in the zone the app put in `Session.info["tz"]` (create_app does), else
the system's. `core.policy` allows these appends in every state; they ask anyway, so the
table stays the one place that decides.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.clock import zone
from cssec.core.license import LicenseState, Product, license_state
from cssec.core.policy import Operation, decide
from cssec.server.models import LicenseSlot

TZ_INFO_KEY = "tz"


def slot_state(session: Session, at: datetime) -> LicenseState:
    """The C/S Sec. slot's state on the local day of `at` (no slot: expired)."""
    slot = session.scalars(
        select(LicenseSlot).where(LicenseSlot.product == Product.CS.value)
    ).first()
    if slot is None:
        return LicenseState.EXPIRED
    tz = session.info.get(TZ_INFO_KEY)
    today = at.astimezone(tz if isinstance(tz, tzinfo) else zone(None)).date()
    return license_state(slot.expires_on, slot.grace_days, today)


def check_log_append(session: Session, operation: Operation, at: datetime) -> None:
    """Raise the policy's refusal when appending to that log is not allowed at `at`."""
    decide(slot_state(session, at), operation).raise_if_refused()
