"""The policy gate of the low-level log appends (system event log, connection status log,
update log (server)): they are written inside other work, where no license state is at
hand, so the gate asks `licensing.state` in the same session, with the clock guard like
every other gate.

The day is counted in the zone the app put in `Session.info["tz"]` (create_app does), else
the system's. `core.policy` allows these appends in every state; they ask anyway, so the
table stays the one place that decides.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from cssec.core.clock import zone
from cssec.core.license import Product
from cssec.core.policy import Operation, decide
from cssec.server.licensing.state import cs_license_state

TZ_INFO_KEY = "tz"


def check_log_append(session: Session, operation: Operation, at: datetime) -> None:
    """Raise the policy's refusal when appending to that log is not allowed at `at`."""
    tz = session.info.get(TZ_INFO_KEY)
    state = cs_license_state(session, now=at, tz=tz if isinstance(tz, tzinfo) else zone(None))
    decide(Product.CS, state, operation).raise_if_refused()
