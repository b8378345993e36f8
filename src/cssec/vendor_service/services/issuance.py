"""Issuing, replacing and revoking activation codes and registration keys.

`issue_code_row` / `issue_registration_key_row` are the building blocks (they add rows to
the caller's transaction and neither commit nor audit); `issue_replacement_code` and
`revoke_code` are complete services. A code's serial is its row id, allocated by the
database, so concurrent issuers (bulk issuance included) never collide.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from cssec.core.codes import encode_activation_code, encode_registration_key
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
from cssec.vendor_service.services.lineage import (
    RevocationPreview,
    covered_rows,
    find_revocable,
    preview_of_row,
)
from cssec.vendor_service.services.lookup import formatted_code, resolve
from cssec.vendor_service.services.webhooks import emit_event


def issue_code_row(
    session: Session, contract: Contract, product: str, *, keyring: Keyring, now: datetime
) -> ActivationCodeRow:
    """A new activation code for `contract`'s product: its current seats and end.

    It joins the product's lineage (`services.lineage`): it supersedes the product's newest
    code, whatever that one's state, or starts the lineage when it is the first."""
    mac_key = keyring.current_mac_key
    predecessor = latest_code_row(contract, product)
    row = ActivationCodeRow(
        contract=contract,
        product=product,
        kid=mac_key.kid,
        seats=contract.seats,
        expires_on=contract.ends_on,
        issued_at=now,
        supersedes_id=predecessor.id if predecessor is not None else None,
        lineage_id=predecessor.lineage_id if predecessor is not None else None,
    )
    session.add(row)
    session.flush()
    if row.lineage_id is None:
        row.lineage_id = row.id
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


def latest_code_row(contract: Contract, product: str) -> ActivationCodeRow | None:
    """The product's newest code (its lineage's last), whatever its state."""
    rows = [r for r in contract.activation_codes if r.product == product]
    return max(rows, key=lambda r: r.id) if rows else None


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


def revoked_newest(contract: Contract, product: str) -> ActivationCodeRow | None:
    """The product's newest code when it was revoked (and nothing replaced it since): what a
    new code would lift (the console's confirmation says so before it is asked)."""
    newest = latest_code_row(contract, product)
    return newest if newest is not None and newest.revoked_at is not None else None


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
    (the console passes the user's role; the CLI runs as the vendor host's operator). A
    code issued so names the revoked code it lifts in its audit row (`lifted_revocation`)
    and that code's serial in its event (`lifted_revocation_serial`).
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
        lifted = revoked_newest(contract, catalog.code)
        if lifted is not None and not lift_revocation:
            raise RevocationNeedsAdmin(product=catalog.code)
        row, previous = replace_code_row(
            session, contract, catalog.code, keyring=keyring, now=now_utc(session)
        )
        text = formatted_code(row)
        after = {"code": text, "product": row.product, "expires_on": row.expires_on.isoformat()}
        data: dict[str, object] = {
            "contract_id": contract.id,
            "customer": contract.customer.name,
            "product": row.product,
            "serial": row.serial,
            "expires_on": row.expires_on.isoformat(),
            "replaced_serials": [r.serial for r in previous],
        }
        if lifted is not None:  # said in both, or the undoing reads as a routine reissue
            after["lifted_revocation"] = formatted_code(lifted)
            data["lifted_revocation_serial"] = lifted.serial
        record_audit(
            session,
            actor=actor,
            action="code.reissued",
            target=f"contract:{contract.id}",
            before={"codes": [formatted_code(r) for r in previous]},
            after=after,
        )
        emit_event(session, "code.reissued", data, contract_id=contract.id)
    return text


def revoke_code(
    session: Session,
    code: str,
    *,
    actor: str,
    reason: str = "",
    keys: Keyring | None = None,
) -> RevocationPreview:
    """Revoke an activation code and every code of its lineage it superseded
    (`services.lineage`): status checks then answer revoked_activation_code for each, and
    registration no longer hands them out. Returns what it covered (the preview, taken
    under the contract's row lock, with the revocation times now set; `revoked_now` names the
    codes this call revoked).

    One transaction: each newly revoked row gets revoked_at, a reason (a covered row's names
    the covering code, and `covered_by_id` points at it), one `code.revoked` audit row and
    one `code.revoked` event (delivered after commit). Codes already revoked keep their own
    revocation; revoking an already revoked code revokes only what it covers that is still
    live (nothing, when everything is revoked already)."""
    keyring = keyring_of(session, keys)
    with transaction(session):
        row = find_revocable(session, code, keys=keyring)
        # Reissues lock the contract too: a code issued meanwhile is never half-covered.
        session.get(Contract, row.contract_id, with_for_update=True, populate_existing=True)
        session.refresh(row)
        covered = covered_rows(session, row)
        now = now_utc(session)
        target_text = formatted_code(row)
        why = reason.strip()[:1000] or None
        changed: list[str] = []
        for each in covered:
            if each.revoked_at is not None:
                continue
            changed.append(formatted_code(each))
            each.revoked_at = now
            if each.id == row.id:
                each.revoke_reason = why
            else:
                each.covered_by_id = row.id
                each.revoke_reason = covered_reason(target_text, why)
            _record_revocation(session, each, actor=actor, covering=row, reason=why)
        session.flush()
        preview = replace(preview_of_row(session, row), revoked_now=tuple(changed))
    return preview


def covered_reason(covering: str, reason: str | None) -> str:
    """The reason stored on a code revoked by a newer code's revocation (it names that code:
    stored text, shown as is in either language, so both are in it)."""
    text = f"{covering}の失効に含まれる / covered by the revocation of {covering}"
    return f"{text}: {reason}"[:1000] if reason else text


def _record_revocation(
    session: Session,
    row: ActivationCodeRow,
    *,
    actor: str,
    covering: ActivationCodeRow,
    reason: str | None,
) -> None:
    """The code.revoked audit row (the stored reason, naming the covering code) and event.
    The event carries the operator's `reason` and the covering code's serial: a covered
    code's stored reason quotes the covering code's text, which no payload may carry."""
    assert row.revoked_at is not None
    after: dict[str, object] = {
        "revoked_at": row.revoked_at.isoformat(),
        "reason": row.revoke_reason,
    }
    data: dict[str, object] = {
        "contract_id": row.contract_id,
        "customer": row.contract.customer.name,
        "product": row.product,
        "serial": row.serial,
        "reason": reason,
    }
    if row.id != covering.id:
        after["covered_by"] = formatted_code(covering)
        data["covered_by_serial"] = covering.serial
    record_audit(
        session,
        actor=actor,
        action="code.revoked",
        target=f"code:{row.text}",
        before={"revoked_at": None},
        after=after,
    )
    emit_event(session, "code.revoked", data, contract_id=row.contract_id)
