"""Status statements: what the vendor signs about an activation code's contract, now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cssec.core.codes import ActivationCode
from cssec.core.errors import RevokedActivationCode
from cssec.core.license import LicenseState, grace_end, license_state
from cssec.core.signing import sign_statement
from cssec.vendor.keyring import Keyring
from cssec.vendor.models import ActivationCodeRow, Contract, ProductRow, StatusCheck
from cssec.vendor.services._context import keyring_of, now_utc, read_transaction, transaction
from cssec.vendor.services.lookup import find_activation_code

STATEMENT_VERSION = 1


@dataclass(frozen=True)
class CodeStanding:
    """An activation code we issued, not revoked, with its contract's state right now."""

    code: ActivationCode
    row: ActivationCodeRow
    contract: Contract
    product: ProductRow
    now: datetime
    state: LicenseState

    @property
    def grace_days(self) -> int:
        return self.product.default_grace_days


def code_standing(
    session: Session, activation_code: str, *, keys: Keyring | None = None
) -> CodeStanding:
    """Parse the code, verify its MAC, find its row and contract, refuse a revoked code, and
    compute the contract's state (current end, the product's grace, the vendor's UTC today).

    Shared by status statements and ActiveUpdate. Raises InvalidActivationCode (typo, or
    reason "mac_failed") and RevokedActivationCode; runs in the caller's transaction.
    """
    code, row = find_activation_code(session, activation_code, keys=keyring_of(session, keys))
    if row.revoked_at is not None:
        raise RevokedActivationCode(revoked_at=row.revoked_at.isoformat())
    product = session.get(ProductRow, row.product)
    assert product is not None
    now = now_utc(session)
    state = license_state(row.contract.ends_on, product.default_grace_days, now.date())
    return CodeStanding(code, row, row.contract, product, now, state)


def issue_status_statement(
    session: Session,
    activation_code: str,
    *,
    server_id: str,
    keys: Keyring | None = None,
) -> dict[str, Any]:
    """The signed envelope (`core.signing.sign_statement`) for one code, recorded as a check.

    The statement carries the contract's current end (a renewal moves it), the product's
    grace, the state on today's UTC date, seats and the customer. A contract past its grace
    still gets a statement (state "expired"): the server needs the truth. Raises
    InvalidActivationCode (typo, or reason "mac_failed" for anything we did not issue) and
    RevokedActivationCode.
    """
    keyring = keyring_of(session, keys)
    # Read and sign in a read-only transaction, then record the check in a short write
    # transaction of one INSERT: on SQLite the write lock is held for that INSERT only,
    # not for the lookups and the signature (the lock serialises every worker).
    with read_transaction(session):
        standing = code_standing(session, activation_code, keys=keyring)
        code, row, contract = standing.code, standing.row, standing.contract
        product, now, state = standing.product, standing.now, standing.state
        grace = standing.grace_days
        statement: dict[str, Any] = {
            "v": STATEMENT_VERSION,
            "activation_code": code.text,
            "server_id": server_id,
            "product": row.product,
            "version_type": product.version_type,
            "state": state.value,
            "contract_end": contract.ends_on.isoformat(),
            "grace_days": grace,
            "grace_end": grace_end(contract.ends_on, grace).isoformat(),
            "seats": contract.seats,
            "customer": contract.customer.name,
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        envelope = sign_statement(statement, keyring.signing_key)
        check = {
            "activation_code_id": row.id,
            "server_id": server_id,
            "at": now,
            "state": state.value,
            "contract_end": contract.ends_on,
        }
    with transaction(session):
        session.execute(insert(StatusCheck), [check])
    return envelope
