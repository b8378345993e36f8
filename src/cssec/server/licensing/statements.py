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
from typing import Any, TypedDict, Unpack

from cssec.core.license import Product, VersionType
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.server.licensing.errors import UntrustedStatement

STATEMENT_VERSION = 1
NONCE_BYTES = 18


def new_nonce() -> str:
    """A fresh random value for one status request (144 bits, URL-safe)."""
    return secrets.token_urlsafe(NONCE_BYTES)


MAX_GRACE_DAYS = 3650


class _Subject(TypedDict):
    activation_code: str
    server_id: str
    product: Product


class Binding(_Subject):
    """What a statement must be about: this code, this server, this product, and the nonce
    this server sent with its request (None only where no request was made, such as a
    statement carried in a file that is bound to its request some other way)."""

    nonce: str | None


class RequestBinding(_Subject):
    """The binding of a refusal, which is only ever the answer to a request."""

    nonce: str


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


def _whole(value: object) -> int | None:
    """`value` when it is a JSON integer: a bool is an int to Python, not to the format."""
    return value if type(value) is int else None


def _instant(value: object) -> datetime:
    """A signed timestamp (ISO 8601 with its offset, or Z) in UTC, or UntrustedStatement."""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise ValueError("no offset")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        raise UntrustedStatement(reason="malformed_statement") from None


def _bound_statement(
    envelope: Mapping[str, Any], keys: Mapping[str, VerifyingKey], **binding: Unpack[Binding]
) -> dict[str, Any]:
    """The signed statement, once its signature is good with a pinned key and it is bound
    to `binding`, or UntrustedStatement naming the first thing wrong."""
    check = verify_statement(envelope, keys)
    if not check.ok or check.statement is None:
        raise UntrustedStatement(reason=check.reason or "bad_signature")
    st = check.statement
    nonce = binding["nonce"]
    if nonce is not None and st.get("nonce") != nonce:
        raise UntrustedStatement(reason="nonce_mismatch" if "nonce" in st else "nonce_missing")
    if st.get("v") != STATEMENT_VERSION or type(st.get("v")) is not int:  # not true
        raise UntrustedStatement(reason="unsupported_statement_version")
    if st.get("activation_code") != binding["activation_code"]:
        raise UntrustedStatement(reason="activation_code_mismatch")
    if st.get("server_id") != binding["server_id"]:
        raise UntrustedStatement(reason="server_id_mismatch")
    if st.get("product") != binding["product"].value:
        raise UntrustedStatement(reason="product_mismatch")
    return st


def verify_envelope(
    envelope: Mapping[str, Any], keys: Mapping[str, VerifyingKey], **binding: Unpack[Binding]
) -> VerifiedStatement:
    """The statement's facts, or UntrustedStatement naming the first thing wrong: the
    signature, the binding, then the contract terms."""
    st = _bound_statement(envelope, keys, **binding)
    try:
        version_type = VersionType(st["version_type"])
        contract_end = date.fromisoformat(st["contract_end"])
        grace_days = _whole(st["grace_days"])
        seats = _whole(st["seats"])
        issued_at = st["issued_at"]
        vendor_state = str(st["state"])
    except (KeyError, TypeError, ValueError):
        raise UntrustedStatement(reason="malformed_statement") from None
    if grace_days is None or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise UntrustedStatement(reason="malformed_statement")
    if seats is None or seats < 1:
        raise UntrustedStatement(reason="malformed_statement")
    return VerifiedStatement(
        product=binding["product"],
        activation_code=binding["activation_code"],
        version_type=version_type,
        seats=seats,
        contract_end=contract_end,
        grace_days=grace_days,
        issued_at=_instant(issued_at),
        vendor_state=vendor_state,
        envelope=dict(envelope),
        contract_id=contract_of(st),
        customer=st["customer"] if isinstance(st.get("customer"), str) else None,
    )


def contract_of(statement: Mapping[str, Any]) -> int | None:
    """The contract id a statement names, or None (an older vendor's statement)."""
    return _whole(statement.get("contract_id"))


@dataclass(frozen=True)
class SignedRefusal:
    """The vendor's signed word, for this server, this code and this request, refusing the
    code: a revocation or a rejection."""

    product: Product
    activation_code: str
    envelope: dict[str, Any]


@dataclass(frozen=True)
class VerifiedRevocation(SignedRefusal):
    """A signed refusal saying the code was revoked."""

    revoked_at: datetime


def verify_revocation(
    envelope: object, keys: Mapping[str, VerifyingKey], **binding: Unpack[RequestBinding]
) -> VerifiedRevocation:
    """A revocation the server may act on, or UntrustedStatement: the same checks as a
    status statement (signature, code, server, product, nonce) and state "revoked"."""
    if not isinstance(envelope, Mapping):
        raise UntrustedStatement(reason="malformed_statement")
    verified = verify_envelope(envelope, keys, **binding)
    if verified.vendor_state != "revoked":
        raise UntrustedStatement(reason="not_a_revocation")
    return VerifiedRevocation(
        product=verified.product,
        activation_code=verified.activation_code,
        revoked_at=_instant(envelope["statement"].get("revoked_at")),
        envelope=verified.envelope,
    )


REJECTION_STATES = frozenset({"invalid", "unknown"})
"""What a vendor signs about a well-formed code it did not issue."""


@dataclass(frozen=True)
class VerifiedRejection(SignedRefusal):
    """A signed refusal saying the code is not one the vendor issued (state "invalid" or
    "unknown")."""

    vendor_state: str
    issued_at: datetime


def verify_rejection(
    envelope: object, keys: Mapping[str, VerifyingKey], **binding: Unpack[RequestBinding]
) -> VerifiedRejection:
    """A rejection the server may act on, or UntrustedStatement: the signature with a pinned
    key, then the same bindings as a status statement (version, nonce, code, server,
    product) and a state in REJECTION_STATES. It carries no contract terms to check."""
    if not isinstance(envelope, Mapping):
        raise UntrustedStatement(reason="malformed_statement")
    st = _bound_statement(envelope, keys, **binding)
    if st.get("state") not in REJECTION_STATES:
        raise UntrustedStatement(reason="not_a_rejection")
    return VerifiedRejection(
        product=binding["product"],
        activation_code=binding["activation_code"],
        vendor_state=str(st["state"]),
        issued_at=_instant(st.get("issued_at")),
        envelope=dict(envelope),
    )
