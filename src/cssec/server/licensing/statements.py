"""Trusting a vendor status statement: signature with a pinned key, then what it is about.

A valid signature is not enough: the statement must name this server and the very code
the slot holds, or a statement captured elsewhere could be replayed here; and it must echo
the nonce this server sent with its request, or a statement captured earlier (before a
revocation, say) could be replayed now.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cssec.core.license import Product, VersionType
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.server.licensing.errors import UntrustedStatement

STATEMENT_VERSION = 1
NONCE_BYTES = 18


def new_nonce() -> str:
    """A fresh random value for one status request (144 bits, URL-safe)."""
    return secrets.token_urlsafe(NONCE_BYTES)


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
    contract_id: int | None = None
    """The vendor's contract of the code (absent from older vendors' statements)."""
    customer: str | None = None


def verify_envelope(
    envelope: Mapping[str, Any],
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    product: Product,
    nonce: str | None,
) -> VerifiedStatement:
    """The statement's facts, or UntrustedStatement naming the first thing wrong. `nonce`
    is what this server sent with the request (None only where no request was made, such
    as a statement carried in a file that is bound to its request some other way)."""
    check = verify_statement(envelope, keys)
    if not check.ok or check.statement is None:
        raise UntrustedStatement(reason=check.reason or "bad_signature")
    st = check.statement
    if nonce is not None and st.get("nonce") != nonce:
        raise UntrustedStatement(reason="nonce_mismatch" if "nonce" in st else "nonce_missing")
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
        contract_id=contract_of(st),
        customer=st["customer"] if isinstance(st.get("customer"), str) else None,
    )


def contract_of(statement: Mapping[str, Any]) -> int | None:
    """The contract id a statement names, or None (an older vendor's statement)."""
    value = statement.get("contract_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class VerifiedRevocation:
    """The vendor's signed word, for this server, this code and this request, that the code
    was revoked."""

    product: Product
    activation_code: str
    revoked_at: datetime
    envelope: dict[str, Any]


def verify_revocation(
    envelope: object,
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    product: Product,
    nonce: str,
) -> VerifiedRevocation:
    """A revocation the server may act on, or UntrustedStatement: the same checks as a
    status statement (signature, code, server, product, nonce) and state "revoked"."""
    if not isinstance(envelope, Mapping):
        raise UntrustedStatement(reason="malformed_statement")
    verified = verify_envelope(
        envelope, keys, activation_code=activation_code, server_id=server_id,
        product=product, nonce=nonce,
    )  # fmt: skip
    statement = envelope["statement"]
    if verified.vendor_state != "revoked":
        raise UntrustedStatement(reason="not_a_revocation")
    try:
        revoked_at = datetime.fromisoformat(str(statement["revoked_at"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        raise UntrustedStatement(reason="malformed_statement") from None
    if revoked_at.tzinfo is None:
        raise UntrustedStatement(reason="malformed_statement")
    return VerifiedRevocation(
        product=product,
        activation_code=activation_code,
        revoked_at=revoked_at.astimezone(UTC),
        envelope=dict(envelope),
    )


REJECTION_STATES = frozenset({"invalid", "unknown"})
"""What a vendor signs about a well-formed code it did not issue."""


@dataclass(frozen=True)
class VerifiedRejection:
    """The vendor's signed word, for this server, this code and this request, that the code
    is not one it issued (state "invalid" or "unknown")."""

    product: Product
    activation_code: str
    vendor_state: str
    issued_at: datetime
    envelope: dict[str, Any]


def verify_rejection(
    envelope: object,
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    product: Product,
    nonce: str,
) -> VerifiedRejection:
    """A rejection the server may act on, or UntrustedStatement: the signature with a pinned
    key, then the same bindings as a status statement (version, nonce, code, server,
    product) and a state in REJECTION_STATES. It carries no contract terms to check."""
    if not isinstance(envelope, Mapping):
        raise UntrustedStatement(reason="malformed_statement")
    check = verify_statement(envelope, keys)
    if not check.ok or check.statement is None:
        raise UntrustedStatement(reason=check.reason or "bad_signature")
    st = check.statement
    if st.get("nonce") != nonce:
        raise UntrustedStatement(reason="nonce_mismatch" if "nonce" in st else "nonce_missing")
    if st.get("v") != STATEMENT_VERSION:
        raise UntrustedStatement(reason="unsupported_statement_version")
    if st.get("activation_code") != activation_code:
        raise UntrustedStatement(reason="activation_code_mismatch")
    if st.get("server_id") != server_id:
        raise UntrustedStatement(reason="server_id_mismatch")
    if st.get("product") != product.value:
        raise UntrustedStatement(reason="product_mismatch")
    if st.get("state") not in REJECTION_STATES:
        raise UntrustedStatement(reason="not_a_rejection")
    try:
        issued_at = datetime.fromisoformat(str(st["issued_at"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        raise UntrustedStatement(reason="malformed_statement") from None
    if issued_at.tzinfo is None:
        raise UntrustedStatement(reason="malformed_statement")
    return VerifiedRejection(
        product=product,
        activation_code=activation_code,
        vendor_state=str(st["state"]),
        issued_at=issued_at.astimezone(UTC),
        envelope=dict(envelope),
    )
