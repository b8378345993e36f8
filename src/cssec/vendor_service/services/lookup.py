"""Finding contracts and codes from what a person or a server typed.

Every lookup by a key or code does the same work whether the MAC fails or the MAC is
fine but nothing was issued (parse, MAC, one indexed query), so neither the answer nor
its timing tells an outsider which keys exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cssec.core.codes import (
    ACTIVATION_CODE_GROUPS,
    ACTIVATION_CODE_LENGTH,
    REGISTRATION_KEY_GROUPS,
    REGISTRATION_KEY_LENGTH,
    ActivationCode,
    RegistrationKey,
    check_activation_code,
    check_registration_key,
    format_symbols,
    normalize,
    parse_activation_code,
    parse_registration_key,
)
from cssec.core.errors import NotFound, UnknownRegistrationKey
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import ActivationCodeRow, Contract, Customer, RegistrationKeyRow
from cssec.vendor_service.services._context import keyring_of


@dataclass(frozen=True)
class Resolved:
    """A contract found by its registration key, one of its activation codes, or its id."""

    contract: Contract
    code: ActivationCodeRow | None = None
    registration_key: RegistrationKeyRow | None = None


def formatted_code(row: ActivationCodeRow) -> str:
    assert row.text is not None
    return format_symbols(row.text, ACTIVATION_CODE_GROUPS)


def formatted_key(row: RegistrationKeyRow) -> str:
    assert row.text is not None
    return format_symbols(row.text, REGISTRATION_KEY_GROUPS)


def guess_kind(text: str) -> str:
    """ "registration_key" or "activation_code": by symbol count, the nearer length wins."""
    length = len(normalize(text))
    midpoint = (REGISTRATION_KEY_LENGTH + ACTIVATION_CODE_LENGTH) / 2
    return "registration_key" if length < midpoint else "activation_code"


def find_registration_key(
    session: Session, text: str, *, keys: Keyring | None = None
) -> tuple[RegistrationKey, RegistrationKeyRow]:
    """A registration key we issued, or InvalidRegistrationKey (typo) / UnknownRegistrationKey
    (well-formed but MAC fails, or MAC fine and never issued: the same error)."""
    check = check_registration_key(text, keyring_of(session, keys).mac_secrets)
    if check.value is None:
        raise check.to_error()
    row = session.scalar(
        select(RegistrationKeyRow).where(RegistrationKeyRow.text == check.value.text)
    )
    if not check.ok or row is None:
        raise UnknownRegistrationKey()
    return check.value, row


def find_activation_code(
    session: Session, text: str, *, keys: Keyring | None = None
) -> tuple[ActivationCode, ActivationCodeRow]:
    """An activation code we issued, or InvalidActivationCode: a typo (reason/position), or
    reason "mac_failed" whether the MAC fails or it was never issued."""
    check = check_activation_code(text, keyring_of(session, keys).mac_secrets)
    if check.value is None:
        raise check.to_error()
    row = session.scalar(
        select(ActivationCodeRow)
        .where(ActivationCodeRow.text == check.value.text)
        # Every caller goes on to the contract (status, ActiveUpdate: also its customer):
        # one joined query instead of two lazy loads on the hot paths.
        .options(joinedload(ActivationCodeRow.contract).joinedload(Contract.customer))
    )
    if not check.ok:
        raise check.to_error()
    if row is None:
        # Checked against no keys, the code fails exactly as a forged one does.
        raise check_activation_code(text, {}).to_error()
    return check.value, row


def resolve(session: Session, key_or_code: str | int, *, keys: Keyring | None = None) -> Resolved:
    """The contract named by a registration key, an activation code or a contract id."""
    if isinstance(key_or_code, int):
        contract = session.get(Contract, key_or_code)
        if contract is None:
            raise NotFound()
        return Resolved(contract)
    if guess_kind(key_or_code) == "registration_key":
        _key, key_row = find_registration_key(session, key_or_code, keys=keys)
        return Resolved(key_row.contract, registration_key=key_row)
    _code, code_row = find_activation_code(session, key_or_code, keys=keys)
    return Resolved(code_row.contract, code=code_row)


def get_contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound()
    return contract


def search_contracts(session: Session, query: str, *, limit: int = 50) -> list[Contract]:
    """Support-desk search: a registration key or activation code (exact, typos forgiven by
    normalisation; no MAC check, staff may look up anything), else a customer-name substring."""
    query = query.strip()
    if not query:
        return []
    kind = guess_kind(query)
    key_check = parse_registration_key(query) if kind == "registration_key" else None
    if key_check is not None and key_check.value is not None:
        return list(
            session.scalars(
                select(Contract)
                .join(RegistrationKeyRow)
                .where(RegistrationKeyRow.text == key_check.value.text)
            )
        )
    code_check = parse_activation_code(query) if kind == "activation_code" else None
    if code_check is not None and code_check.value is not None:
        return list(
            session.scalars(
                select(Contract)
                .join(ActivationCodeRow)
                .where(ActivationCodeRow.text == code_check.value.text)
            )
        )
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        session.scalars(
            select(Contract)
            .join(Customer)
            .where(Customer.name.ilike(pattern, escape="\\"))
            .order_by(Contract.id.desc())
            .limit(limit)
        )
    )
