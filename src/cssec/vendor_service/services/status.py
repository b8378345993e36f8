"""Status statements: what the vendor signs about an activation code's contract, now.

Two ways to an activation code's standing:

- `code_standing`: the ORM objects (code row, contract, product), for callers that go on
  to use them.
- `lookup_standing` / `read_code_facts`: the hot paths (`POST /api/v1/status`, and
  ActiveUpdate through its entitlement cache). One Core `SELECT` joining the code, its
  contract, the customer and the product, by the canonical code text (unique index), and
  no ORM objects: a status check costs a fraction of the ORM path's CPU. Same checks, same
  errors, same timing rule as `lookup.find_activation_code` (the query runs whether or not
  the MAC verifies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from cssec.core.codes import ActivationCode, CodeCheck, check_activation_code
from cssec.core.errors import CssecError, InvalidActivationCode, RevokedActivationCode
from cssec.core.license import LicenseState, grace_end, license_state
from cssec.core.signing import sign_statement
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import ActivationCodeRow, Contract, Customer, ProductRow
from cssec.vendor_service.services._context import (
    clock_of,
    core_transaction,
    keyring_of,
    now_utc,
    single_read,
)
from cssec.vendor_service.services.lookup import find_activation_code
from cssec.vendor_service.services.status_log import INSERT_CHECK, StatusLog, watch_seats

STATEMENT_VERSION = 1

_codes = ActivationCodeRow.__table__
_contracts = Contract.__table__
_customers = Customer.__table__
_products = ProductRow.__table__
FACTS_QUERY = (
    select(
        _codes.c.id,
        _codes.c.product,
        _codes.c.revoked_at,
        _contracts.c.ends_on,
        _contracts.c.seats,
        _customers.c.name,
        _products.c.version_type,
        _products.c.default_grace_days,
        _codes.c.contract_id,
    )
    .select_from(
        _codes.join(_contracts, _contracts.c.id == _codes.c.contract_id)
        .join(_customers, _customers.c.id == _contracts.c.customer_id)
        .join(_products, _products.c.code == _codes.c.product)
    )
    .where(_codes.c.text == bindparam("text"))
)
"""A code's facts by its canonical text (unique index): code id, product, revoked_at,
contract end, seats, customer name, version type, grace days, contract id."""


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

    For callers that go on to use the ORM objects (the status statement and ActiveUpdate
    use the Core `lookup_standing` instead). Raises InvalidActivationCode (typo, or reason
    "mac_failed") and RevokedActivationCode; runs in the caller's transaction.
    """
    code, row = find_activation_code(session, activation_code, keys=keyring_of(session, keys))
    if row.revoked_at is not None:
        raise RevokedActivationCode(revoked_at=row.revoked_at.isoformat())
    product = session.get(ProductRow, row.product)
    assert product is not None
    now = now_utc(session)
    state = license_state(row.contract.ends_on, product.default_grace_days, now.date())
    return CodeStanding(code, row, row.contract, product, now, state)


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What the database says about an issued, unrevoked activation code: enough to decide
    its state on any date and to write its status statement."""

    code_id: int
    product: str
    version_type: str
    contract_end: date
    grace_days: int
    seats: int
    customer: str
    contract_id: int

    def state_on(self, today: date) -> LicenseState:
        return license_state(self.contract_end, self.grace_days, today)


class RevokedCode(RevokedActivationCode):
    """A revoked code, with what a status answer signs about it (kept out of the error's
    body: only `revocation_refusal` decides what the refusal carries)."""

    def __init__(self, code: ActivationCode, facts: CodeFacts, revoked_at: datetime) -> None:
        super().__init__(revoked_at=revoked_at.isoformat())
        self.activation_code = code
        self.facts = facts
        self.revoked_at = revoked_at


class UnknownCode(InvalidActivationCode):
    """A well-formed code (its check character is right) that we did not issue: its MAC
    fails, or no row holds it (the two are answered alike). Carries the parsed code so a
    status answer can sign that it is invalid (`invalid_refusal`); its body is the plain
    `invalid_activation_code` refusal (reason "mac_failed")."""

    def __init__(self, code: ActivationCode, refusal: CssecError) -> None:
        super().__init__(**refusal.fields)
        self.activation_code = code


@dataclass(frozen=True, slots=True)
class Standing:
    """`CodeFacts` of a verified code, and its state at `now` (the vendor's UTC date)."""

    code: ActivationCode
    facts: CodeFacts
    now: datetime
    state: LicenseState


def verify_code(text: str, keys: Keyring) -> CodeCheck[ActivationCode]:
    """Parse and verify the MAC. InvalidActivationCode for a typo; a MAC failure is returned
    (not raised) so that the caller still runs its query before refusing (timing)."""
    check = check_activation_code(text, keys.mac_secrets)
    if check.value is None:
        raise check.to_error()
    return check


def read_code_facts(
    connection: Connection | Session, text: str, check: CodeCheck[ActivationCode]
) -> tuple[ActivationCode, CodeFacts]:
    """One Core query for the code `verify_code` parsed; refuse it unless its MAC verified,
    it was issued and it is not revoked. Runs in the caller's transaction (a session: its
    connection)."""
    assert check.value is not None
    if isinstance(connection, Session):
        connection = connection.connection()
    row = connection.execute(FACTS_QUERY, {"text": check.value.text}).first()
    return code_facts_from_row(text, check, None if row is None else tuple(row))


def code_facts_from_row(
    text: str, check: CodeCheck[ActivationCode], row: tuple[Any, ...] | None
) -> tuple[ActivationCode, CodeFacts]:
    """`read_code_facts`'s verdict on the row `FACTS_QUERY` found for the code (None: no
    row), however it was read (`cssec.vendor_service.hotdb` reads it without SQLAlchemy)."""
    assert check.value is not None
    if not check.ok:
        raise UnknownCode(check.value, check.to_error())
    if row is None:
        # Checked against no keys, the code fails exactly as a forged one does.
        raise UnknownCode(check.value, check_activation_code(text, {}).to_error())
    code_id, product, revoked_at, ends_on, seats, customer, version_type, grace, contract = row
    facts = CodeFacts(code_id, product, version_type, ends_on, grace, seats, customer, contract)
    if revoked_at is not None:
        raise RevokedCode(check.value, facts, revoked_at)
    return check.value, facts


def standing_at(code: ActivationCode, facts: CodeFacts, now: datetime) -> Standing:
    return Standing(code, facts, now, facts.state_on(now.date()))


def lookup_standing(
    session: Session, activation_code: str, *, keys: Keyring | None = None
) -> Standing:
    """`code_standing` without ORM objects: InvalidActivationCode (typo, or "mac_failed"),
    RevokedActivationCode; the state on the vendor's UTC today. In the caller's transaction."""
    check = verify_code(activation_code, keyring_of(session, keys))
    code, facts = read_code_facts(session, activation_code, check)
    return standing_at(code, facts, now_utc(session))


def _statement(standing: Standing, server_id: str, nonce: str | None) -> dict[str, Any]:
    facts, now = standing.facts, standing.now
    statement = {
        "v": STATEMENT_VERSION,
        "activation_code": standing.code.text,
        "server_id": server_id,
        "product": facts.product,
        "version_type": facts.version_type,
        "state": standing.state.value,
        "contract_end": facts.contract_end.isoformat(),
        "grace_days": facts.grace_days,
        "grace_end": grace_end(facts.contract_end, facts.grace_days).isoformat(),
        "seats": facts.seats,
        "customer": facts.customer,
        "contract_id": facts.contract_id,
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if nonce is not None:
        statement["nonce"] = nonce
    return statement


def _check_row(
    standing: Standing,
    server_id: str,
    state: str | None = None,
    *,
    seats_used: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One status-check history row. Every row has every key (the batch insert of
    `StatusLog` is one executemany)."""
    return {
        "activation_code_id": standing.facts.code_id,
        "server_id": server_id,
        "at": standing.now,
        "state": state or standing.state.value,
        "contract_end": standing.facts.contract_end,
        "seats_used": seats_used,
        "request_id": request_id,
    }


REVOKED_STATE = "revoked"


def revocation_refusal(
    revoked: RevokedCode,
    *,
    server_id: str,
    nonce: str | None,
    keyring: Keyring,
    now: datetime,
    status_log: StatusLog | None = None,
    connection: Connection | None = None,
    seats_used: int | None = None,
    request_id: str | None = None,
) -> RevokedActivationCode:
    """The refusal of a status check for a revoked code, carrying a signed statement with
    state "revoked" (`revocation`) bound to the server, the code and the request's nonce:
    proof a server can act on (a bare refusal could come from anyone on the path). The
    check is recorded in the history as "revoked"."""
    standing = standing_at(revoked.activation_code, revoked.facts, now)
    statement = _statement(standing, server_id, nonce)
    statement["state"] = REVOKED_STATE
    statement["revoked_at"] = revoked.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    row = _check_row(
        standing, server_id, REVOKED_STATE, seats_used=seats_used, request_id=request_id
    )
    if status_log is not None:
        status_log.record(row)
    elif connection is not None:
        connection.execute(INSERT_CHECK, row)
    return RevokedActivationCode(
        revoked_at=revoked.revoked_at.isoformat(),
        revocation=sign_statement(statement, keyring.signing_key),
    )


INVALID_STATE = "invalid"


def invalid_refusal(
    unknown: UnknownCode,
    *,
    server_id: str,
    nonce: str | None,
    keyring: Keyring,
    now: datetime,
    request_sha256: str | None = None,
) -> InvalidActivationCode:
    """The refusal of a status check for a well-formed code we did not issue, carrying a
    signed statement (`refusal`) with state "invalid", bound to the server, the code and the
    request's nonce: what a server may act on (the slot shows 無効 / rejected), where a bare
    `invalid_activation_code` could come from anyone on the path. Nothing is recorded: the
    history holds checks of codes we issued. The statement names no contract, so it tells
    the asker nothing it did not send."""
    code = unknown.activation_code
    statement: dict[str, Any] = {
        "v": STATEMENT_VERSION,
        "activation_code": code.text,
        "server_id": server_id,
        "product": code.product.value,
        "state": INVALID_STATE,
        "reason": str(unknown.fields.get("reason", "mac_failed")),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if nonce is not None:
        statement["nonce"] = nonce
    if request_sha256 is not None:  # an air-gapped response file's (`offline_renewal`)
        statement["request_sha256"] = request_sha256
    return InvalidActivationCode(
        **unknown.fields, refusal=sign_statement(statement, keyring.signing_key)
    )


def issue_status_statement(
    session: Session,
    activation_code: str,
    *,
    server_id: str,
    nonce: str | None = None,
    keys: Keyring | None = None,
    seats_used: int | None = None,
) -> dict[str, Any]:
    """The signed envelope (`core.signing.sign_statement`) for one code, recorded as a check.
    `nonce`, the server's fresh random value, is echoed inside the statement so the server
    can tell this answer from a replayed one. `seats_used`, the clients the server counts
    as in use, is recorded in the check's history row (the support desk compares it with
    the contract's seats); it changes nothing in the answer.

    The statement carries the contract's current end (a renewal moves it), the product's
    grace, the state on today's UTC date, seats, the customer and the contract's id (a server
    compares it when a code is replaced: another contract needs confirming). A contract past
    its grace still gets a statement (state "expired"): the server needs the truth. Raises
    InvalidActivationCode (a typo; or reason "mac_failed" for a well-formed code we did not
    issue, with a signed "invalid" statement: `invalid_refusal`) and RevokedActivationCode
    (with a signed "revoked" statement: `revocation_refusal`).

    The check is recorded through the session's `StatusLog` (`session.info["status_log"]`,
    set by `Vendor.sessionmaker`: written behind in batches, see `status_log`), or, for a
    session without one, inserted before returning. The lookup and the signature run in a
    single read (`single_read`: on PostgreSQL one round trip, on SQLite a DEFERRED
    transaction, no write lock).
    """
    keyring = keyring_of(session, keys)
    check = verify_code(activation_code, keyring)
    status_log = session.info.get("status_log")
    log = status_log if isinstance(status_log, StatusLog) else None
    try:
        with single_read(session) as connection:
            code, facts = read_code_facts(connection, activation_code, check)
    except UnknownCode as unknown:
        raise invalid_refusal(
            unknown, server_id=server_id, nonce=nonce, keyring=keyring, now=now_utc(session)
        ) from None
    except RevokedCode as revoked:
        now = now_utc(session)
        if log is not None:
            raise revocation_refusal(
                revoked, server_id=server_id, nonce=nonce, keyring=keyring, now=now,
                status_log=log, seats_used=seats_used,
            ) from None  # fmt: skip
        with core_transaction(session) as connection:
            refusal = revocation_refusal(
                revoked, server_id=server_id, nonce=nonce, keyring=keyring, now=now,
                connection=connection, seats_used=seats_used,
            )  # fmt: skip
        raise refusal from None
    standing = standing_at(code, facts, now_utc(session))
    if log is not None:
        return answer_status(standing, server_id, keyring, log, nonce=nonce, seats_used=seats_used)
    envelope = sign_statement(_statement(standing, server_id, nonce), keyring.signing_key)
    row = _check_row(standing, server_id, seats_used=seats_used)
    with core_transaction(session) as connection:
        if seats_used is not None:
            watch_seats(connection, [row], clock_of(session))
        connection.execute(INSERT_CHECK, row)
    return envelope


def answer_status(
    standing: Standing,
    server_id: str,
    keyring: Keyring,
    status_log: StatusLog,
    *,
    nonce: str | None = None,
    seats_used: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The signed envelope for a code's standing, its check (with the server's reported
    `seats_used`, and the balancer's `request_id`) queued for the history."""
    envelope = sign_statement(_statement(standing, server_id, nonce), keyring.signing_key)
    status_log.record(_check_row(standing, server_id, seats_used=seats_used, request_id=request_id))
    return envelope
