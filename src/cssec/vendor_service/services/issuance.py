"""Issuing, replacing and revoking activation codes and registration keys.

`issue_code_row` / `issue_registration_key_row` are the building blocks (they add rows to
the caller's transaction and neither commit nor audit); `issue_replacement_code` and
`revoke_code` are complete services. A code's serial is its row id, allocated by the
database, so concurrent issuers (bulk issuance included) never collide.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cssec.core.codes import encode_activation_code, encode_registration_key
from cssec.core.errors import InvalidActivationCode
from cssec.core.license import Product
from cssec.vendor_service.errors import (
    InvalidContractTerms,
    ProductNotInContract,
    RevocationNeedsAdmin,
)
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import ActivationCodeRow, Contract, RegistrationKeyRow
from cssec.vendor_service.services._context import keyring_of, now_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.catalog import get_product
from cssec.vendor_service.services.lookup import (
    find_activation_code,
    formatted_code,
    guess_kind,
    resolve,
)
from cssec.vendor_service.services.webhooks import emit_event


def issue_code_row(
    session: Session, contract: Contract, product: str, *, keyring: Keyring, now: datetime
) -> ActivationCodeRow:
    """A new activation code for `contract`'s product: its current seats and end."""
    mac_key = keyring.current_mac_key
    row = ActivationCodeRow(
        contract=contract,
        product=product,
        kid=mac_key.kid,
        seats=contract.seats,
        expires_on=contract.ends_on,
        issued_at=now,
    )
    session.add(row)
    session.flush()
    try:
        code = encode_activation_code(
            product=Product(product),
            seats=contract.seats,
            expires_on=contract.ends_on,
            serial=row.id,
            key=mac_key,
        )
    except ValueError as exc:
        raise InvalidContractTerms(detail_ja=str(exc), detail_en=str(exc)) from exc
    row.serial = row.id
    row.text = code.text
    session.flush()
    return row


def issue_registration_key_row(
    session: Session, contract: Contract, *, keyring: Keyring, now: datetime
) -> RegistrationKeyRow:
    mac_key = keyring.current_mac_key
    row = RegistrationKeyRow(contract=contract, kid=mac_key.kid, created_at=now)
    session.add(row)
    session.flush()
    key = encode_registration_key(serial=row.id, key=mac_key)
    row.serial = row.id
    row.text = key.text
    session.flush()
    return row


def current_code_rows(contract: Contract) -> dict[str, ActivationCodeRow]:
    """Per product, the newest code that is neither revoked nor replaced."""
    current: dict[str, ActivationCodeRow] = {}
    for row in contract.activation_codes:
        if row.is_current and (row.product not in current or row.id > current[row.product].id):
            current[row.product] = row
    return current


def replace_code_row(
    session: Session, contract: Contract, product: str, *, keyring: Keyring, now: datetime
) -> tuple[ActivationCodeRow, list[ActivationCodeRow]]:
    """Issue a new code for `product` and mark the product's current codes replaced by it."""
    previous = [r for r in contract.activation_codes if r.product == product and r.is_current]
    row = issue_code_row(session, contract, product, keyring=keyring, now=now)
    for old in previous:
        old.replaced_by = row.id
    session.flush()
    return row, previous


def _revoked(contract: Contract, product: str) -> bool:
    """The product's newest code was revoked (and nothing replaced it since)."""
    rows = [r for r in contract.activation_codes if r.product == product]
    return bool(rows) and max(rows, key=lambda r: r.id).revoked_at is not None


def issue_replacement_code(
    session: Session,
    key_or_code: str | int,
    *,
    product: str | None = "CS",
    actor: str,
    keys: Keyring | None = None,
    lift_revocation: bool = False,
) -> str:
    """A new activation code (expiry = the contract's current end) for an offline renewal.

    `key_or_code` is a registration key, an activation code or a contract id. `product`
    None means the given code's own product (CS for a key or an id). Previous codes stay
    valid online; they are marked replaced, so registration hands out the new one.
    Returns the formatted code.

    When the product's latest code was revoked, a new code would undo the revocation:
    refused (RevocationNeedsAdmin) unless `lift_revocation`, which only admins may pass
    (the console passes the user's role; the CLI runs as the vendor host's operator).
    """
    keyring = keyring_of(session, keys)
    with transaction(session):
        found = resolve(session, key_or_code, keys=keyring)
        if product is None:
            product = found.code.product if found.code is not None else "CS"
        catalog = get_product(session, product)
        contract = session.get(
            Contract, found.contract.id, with_for_update=True, populate_existing=True
        )
        assert contract is not None
        if catalog.code not in contract.product_codes:
            raise ProductNotInContract(product=catalog.code)
        if not lift_revocation and _revoked(contract, catalog.code):
            raise RevocationNeedsAdmin(product=catalog.code)
        row, previous = replace_code_row(
            session, contract, catalog.code, keyring=keyring, now=now_utc(session)
        )
        text = formatted_code(row)
        record_audit(
            session,
            actor=actor,
            action="code.reissued",
            target=f"contract:{contract.id}",
            before={"codes": [formatted_code(r) for r in previous]},
            after={"code": text, "product": row.product, "expires_on": row.expires_on.isoformat()},
        )
        emit_event(
            session,
            "code.reissued",
            {
                "contract_id": contract.id,
                "customer": contract.customer.name,
                "product": row.product,
                "serial": row.serial,
                "expires_on": row.expires_on.isoformat(),
                "replaced_serials": [r.serial for r in previous],
            },
            contract_id=contract.id,
        )
    return text


def revoke_code(
    session: Session,
    code: str,
    *,
    actor: str,
    reason: str = "",
    keys: Keyring | None = None,
) -> None:
    """Revoke an activation code: status checks then answer revoked_activation_code and
    registration no longer hands it out. Revoking a revoked code changes nothing."""
    if guess_kind(code) != "activation_code":
        raise InvalidActivationCode(
            detail_ja="レジストレーションキーは失効できません。アクティベーションコードを指定してください",
            detail_en="a registration key cannot be revoked; give an activation code",
            reason="wrong_kind",
            position=None,
        )
    with transaction(session):
        _parsed, row = find_activation_code(session, code, keys=keys)
        if row.revoked_at is not None:
            return
        row.revoked_at = now_utc(session)
        row.revoke_reason = reason.strip()[:1000] or None
        record_audit(
            session,
            actor=actor,
            action="code.revoked",
            target=f"code:{row.text}",
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at.isoformat(), "reason": row.revoke_reason},
        )
        emit_event(
            session,
            "code.revoked",
            {
                "contract_id": row.contract_id,
                "customer": row.contract.customer.name,
                "product": row.product,
                "serial": row.serial,
                "reason": row.revoke_reason,
            },
            contract_id=row.contract_id,
        )
