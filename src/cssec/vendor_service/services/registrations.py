"""Online registration: a registration key (+ company, contact, server id) → the codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.names import COMPANY_NAME, check_name
from cssec.vendor_service.errors import NoCurrentCodes
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import Contract, Registration
from cssec.vendor_service.services._context import keyring_of, now_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.issuance import current_code_rows, replace_code_row
from cssec.vendor_service.services.lookup import find_registration_key, formatted_code


@dataclass(frozen=True)
class IssuedCode:
    product: str
    activation_code: str
    """Formatted XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX."""
    expires_on: date


def register_server(
    session: Session,
    registration_key: str,
    *,
    company: str,
    contact_email: str,
    server_id: str,
    actor: str,
    keys: Keyring | None = None,
) -> list[IssuedCode]:
    """The contract's current activation codes, CS first, and a record of who registered.

    Idempotent: registering again returns the same codes. Revoked codes are never handed
    out; a reissued code replaces its predecessor. A current code older than a renewal is
    replaced by one carrying the contract's current end (audited as code.reissued), so a
    server installed after a renewal starts with the right expiry even offline.

    InvalidRegistrationKey for a typo; UnknownRegistrationKey for a well-formed key that
    is not ours or not issued (the same answer for both); NoCurrentCodes (403
    revoked_activation_code) when every code of the contract was revoked.
    """
    check_name(company, COMPANY_NAME)
    keyring = keyring_of(session, keys)
    with transaction(session):
        _key, key_row = find_registration_key(session, registration_key, keys=keyring)
        contract = session.get(
            Contract, key_row.contract_id, with_for_update=True, populate_existing=True
        )
        assert contract is not None
        now = now_utc(session)
        current = current_code_rows(contract)
        for product, row in sorted(current.items()):
            if row.expires_on < contract.ends_on:
                new_row, previous = replace_code_row(
                    session, contract, product, keyring=keyring, now=now
                )
                current[product] = new_row
                record_audit(
                    session,
                    actor=actor,
                    action="code.reissued",
                    target=f"contract:{contract.id}",
                    before={"codes": [formatted_code(r) for r in previous]},
                    after={
                        "code": formatted_code(new_row),
                        "product": product,
                        "expires_on": new_row.expires_on.isoformat(),
                        "why": "registration after renewal",
                    },
                )
        if not current:
            raise NoCurrentCodes()
        registration = session.scalar(
            select(Registration).where(
                Registration.contract_id == contract.id, Registration.server_id == server_id
            )
        )
        if registration is None:
            registration = Registration(
                contract_id=contract.id,
                server_id=server_id,
                company=company,
                contact_email=contact_email,
                first_at=now,
                last_at=now,
                count=1,
            )
            session.add(registration)
            record_audit(
                session,
                actor=actor,
                action="registration.created",
                target=f"contract:{contract.id}",
                before=None,
                after={"server_id": server_id, "company": company, "contact_email": contact_email},
            )
        else:
            registration.company = company
            registration.contact_email = contact_email
            registration.last_at = now
            registration.count += 1
        issued = [
            IssuedCode(
                product=product,
                activation_code=formatted_code(current[product]),
                expires_on=current[product].expires_on,
            )
            for product in contract.product_codes
            if product in current
        ]
    return issued
