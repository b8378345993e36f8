"""Trusting a vendor status statement: signature with a pinned key, then what it is about.

A valid signature is not enough: the statement must name this server and the very code
the slot holds, or a statement captured elsewhere could be replayed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cssec.core.license import Product, VersionType
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.server.licensing.errors import UntrustedStatement

STATEMENT_VERSION = 1
MAX_GRACE_DAYS = 3650


@dataclass(frozen=True)
class VerifiedStatement:
    product: Product
    activation_code: str
    version_type: VersionType
    seats: int
    contract_end: date
    grace_days: int
    issued_at: datetime
    vendor_state: str
    envelope: dict[str, Any]


def verify_envelope(
    envelope: Mapping[str, Any],
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    product: Product,
) -> VerifiedStatement:
    """The statement's facts, or UntrustedStatement naming the first thing wrong."""
    check = verify_statement(envelope, keys)
    if not check.ok or check.statement is None:
        raise UntrustedStatement(reason=check.reason or "bad_signature")
    st = check.statement
    if st.get("v") != STATEMENT_VERSION:
        raise UntrustedStatement(reason="unsupported_statement_version")
    if st.get("activation_code") != activation_code:
        raise UntrustedStatement(reason="activation_code_mismatch")
    if st.get("server_id") != server_id:
        raise UntrustedStatement(reason="server_id_mismatch")
    if st.get("product") != product.value:
        raise UntrustedStatement(reason="product_mismatch")
    try:
        version_type = VersionType(st["version_type"])
        contract_end = date.fromisoformat(st["contract_end"])
        grace_days = st["grace_days"]
        seats = st["seats"]
        issued_at = datetime.fromisoformat(str(st["issued_at"]).replace("Z", "+00:00"))
        vendor_state = str(st["state"])
    except (KeyError, TypeError, ValueError):
        raise UntrustedStatement(reason="malformed_statement") from None
    if not isinstance(grace_days, int) or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise UntrustedStatement(reason="malformed_statement")
    if not isinstance(seats, int) or seats < 1:
        raise UntrustedStatement(reason="malformed_statement")
    if issued_at.tzinfo is None:
        raise UntrustedStatement(reason="malformed_statement")
    return VerifiedStatement(
        product=product,
        activation_code=activation_code,
        version_type=version_type,
        seats=seats,
        contract_end=contract_end,
        grace_days=grace_days,
        issued_at=issued_at.astimezone(UTC),
        vendor_state=vendor_state,
        envelope=dict(envelope),
    )
