"""Contracts: issue one (customer, products, seats, term) with its key and codes; renew it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.codes import EXPIRY_EPOCH
from cssec.core.names import CUSTOMER_NAME, check_name
from cssec.vendor_service.errors import InvalidContractTerms
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import Contract, ContractProduct, Customer
from cssec.vendor_service.services._context import keyring_of, now_utc, today_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.catalog import get_product
from cssec.vendor_service.services.issuance import issue_code_row, issue_registration_key_row
from cssec.vendor_service.services.lookup import formatted_code, formatted_key, resolve
from cssec.vendor_service.services.webhooks import emit_event

MAX_SEATS = 0xFFFF  # the activation code's seats field
MAX_MONTHS = 120
LAST_END = date(2179, 6, 6)  # the activation code's last encodable expiry


@dataclass(frozen=True)
class IssuedContract:
    contract_id: int
    registration_key: str
    """Formatted XX-XXXX-XXXX-XXXX-XXXX."""
    codes: dict[str, str]
    """Product ("CS", "DCS") → formatted activation code."""
    end: date
    start: date = field(default=EXPIRY_EPOCH)
    seats: int = 0
    customer: str = ""


@dataclass(frozen=True)
class RenewedContract:
    contract_id: int
    previous_end: date
    end: date


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date:
    """The last day of a term of `months` starting on `start` (2026-01-01 + 12 → 2026-12-31)."""
    return add_months(start, months) - timedelta(days=1)


def _terms_error(ja: str, en: str) -> InvalidContractTerms:
    return InvalidContractTerms(detail_ja=ja, detail_en=en)


def _check_terms(customer: str, seats: int, months: int, start: date) -> None:
    check_name(customer, CUSTOMER_NAME)
    if not customer or len(customer) > 200 or not customer.isprintable():
        raise _terms_error(
            "顧客名は 1〜200 文字の印字可能な文字で指定してください",
            "the customer name must be 1 to 200 printable characters",
        )
    if isinstance(seats, bool) or not 1 <= seats <= MAX_SEATS:
        raise _terms_error(
            f"ライセンス数は 1〜{MAX_SEATS}で指定してください",
            f"seats must be 1 to {MAX_SEATS}",
        )
    _check_months(months)
    if start < EXPIRY_EPOCH or term_end(start, months) > LAST_END:
        raise _terms_error(
            f"契約期間は {EXPIRY_EPOCH}〜{LAST_END}の範囲で指定してください",
            f"the term must lie within {EXPIRY_EPOCH} to {LAST_END}",
        )


def _check_months(months: int) -> None:
    if isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise _terms_error(
            f"期間は 1〜{MAX_MONTHS} か月で指定してください",
            f"months must be 1 to {MAX_MONTHS}",
        )


def issue_contract(
    session: Session,
    *,
    customer: str,
    seats: int,
    months: int = 12,
    start: date | None = None,
    with_dcs: bool = False,
    contact_email: str | None = None,
    language: str | None = None,
    actor: str,
    keys: Keyring | None = None,
) -> IssuedContract:
    """A new contract with its registration key and one activation code per product.

    The customer is found by exact name or created: a label to search and list by, which
    grants nothing. `start` defaults to today (UTC); the end is the last day of the term.
    `contact_email` and `language` (ja, en), when given, are this contract's own contact:
    where and in which language its notices are mailed, and who may sign into the portal
    for it (with its registration key). No other contract of the customer changes.
    Audited as contract.created, and emitted as the webhook of that name.
    """
    keyring = keyring_of(session, keys)
    customer = customer.strip()
    start = start if start is not None else today_utc(session)
    _check_terms(customer, seats, months, start)
    contact = check_contact(contact_email, language)
    with transaction(session):
        now = now_utc(session)
        products = [get_product(session, "CS")]
        if with_dcs:
            products.append(get_product(session, "DCS"))
        person = session.scalar(
            select(Customer).where(Customer.name == customer).order_by(Customer.id).limit(1)
        )
        if person is None:
            person = Customer(name=customer, created_at=now)
            session.add(person)
        contract = Contract(
            customer=person,
            contact_email=contact,
            contact_language=language or "ja",
            seats=seats,
            starts_on=start,
            ends_on=term_end(start, months),
            created_at=now,
            updated_at=now,
            products=[ContractProduct(product=p.code) for p in products],
        )
        session.add(contract)
        session.flush()
        key_row = issue_registration_key_row(session, contract, keyring=keyring, now=now)
        codes = {
            p.code: formatted_code(
                issue_code_row(session, contract, p.code, keyring=keyring, now=now)
            )
            for p in products
        }
        issued = IssuedContract(
            contract_id=contract.id,
            registration_key=formatted_key(key_row),
            codes=codes,
            end=contract.ends_on,
            start=contract.starts_on,
            seats=contract.seats,
            customer=person.name,
        )
        record_audit(
            session,
            actor=actor,
            action="contract.created",
            target=f"contract:{contract.id}",
            before=None,
            after={
                "customer": person.name,
                "seats": seats,
                "start": start.isoformat(),
                "end": contract.ends_on.isoformat(),
                "products": list(codes),
                "registration_key": issued.registration_key,
                "codes": codes,
                "contact_email": contact,
                "language": contract.contact_language,
            },
        )
        emit_event(
            session,
            "contract.created",
            {
                "contract_id": contract.id,
                "customer": person.name,
                "seats": seats,
                "starts_on": start.isoformat(),
                "ends_on": contract.ends_on.isoformat(),
                "products": list(codes),
            },
            contract_id=contract.id,
        )
    return issued


def check_contact(email: str | None, language: str | None) -> str | None:
    """The contact address as stored (stripped; None for none), or InvalidContractTerms
    naming what is wrong with it or with the language (ja, en)."""
    if language is not None and language not in {"ja", "en"}:
        raise _terms_error("言語は ja か enで指定してください", "the language must be ja or en")
    if email is None:
        return None
    email = email.strip()
    local, _, domain = email.partition("@")
    if email and (
        not local
        or "." not in domain
        or len(email) > 254
        or not email.isprintable()
        or any(c.isspace() for c in email)
    ):
        raise _terms_error(
            "連絡先のメールアドレスが正しくありません", "the contact e-mail address is not valid"
        )
    return email or None


def renew_contract(
    session: Session,
    key_or_code: str | int,
    *,
    months: int = 12,
    actor: str,
    keys: Keyring | None = None,
) -> RenewedContract:
    """Move the contract's end `months` later, counted from its current end.

    `key_or_code` is a registration key, an activation code or a contract id. Existing codes
    are untouched: online servers pick the new end up from their next status check,
    offline ones need `issue_replacement_code`. Audited as contract.renewed.
    """
    _check_months(months)
    with transaction(session):
        found = resolve(session, key_or_code, keys=keys)
        contract = session.get(
            Contract, found.contract.id, with_for_update=True, populate_existing=True
        )
        assert contract is not None
        previous = contract.ends_on
        new_end = term_end(previous + timedelta(days=1), months)
        if new_end > LAST_END:
            raise _terms_error(
                f"契約終了日は {LAST_END}より後にできません",
                f"the contract cannot end after {LAST_END}",
            )
        contract.ends_on = new_end
        contract.updated_at = now_utc(session)
        record_audit(
            session,
            actor=actor,
            action="contract.renewed",
            target=f"contract:{contract.id}",
            before={"end": previous.isoformat()},
            after={"end": new_end.isoformat(), "months": months},
        )
        emit_event(
            session,
            "contract.renewed",
            {
                "contract_id": contract.id,
                "customer": contract.customer.name,
                "previous_end": previous.isoformat(),
                "ends_on": new_end.isoformat(),
                "months": months,
            },
            contract_id=contract.id,
        )
    return RenewedContract(contract_id=contract.id, previous_end=previous, end=new_end)


@dataclass(frozen=True)
class ContactChange:
    contract_id: int
    customer: str
    before: dict[str, str | None]
    after: dict[str, str | None]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def change_contact(
    session: Session,
    key_or_code: str | int,
    *,
    contact_email: str,
    language: str,
    actor: str,
    keys: Keyring | None = None,
) -> ContactChange:
    """Set this contract's own contact: where and in which language (ja, en) its notices
    are mailed, and who may sign into the portal for it (empty: none set; the address given
    at its latest registration is used). Nothing else changes: the customer's other
    contracts keep their contacts, and open portal sessions of a replaced address end at
    their next request. Audited as contract.contact_changed on the contract (nothing is
    written when nothing changes)."""
    contact = check_contact(contact_email, language)
    if language not in {"ja", "en"}:
        raise _terms_error("言語は ja か enで指定してください", "the language must be ja or en")
    with transaction(session):
        found = resolve(session, key_or_code, keys=keys)
        contract = session.get(
            Contract, found.contract.id, with_for_update=True, populate_existing=True
        )
        assert contract is not None
        before = {"contact_email": contract.contact_email, "language": contract.contact_language}
        after = {"contact_email": contact, "language": language}
        if before != after:
            contract.contact_email = contact
            contract.contact_language = language
            contract.updated_at = now_utc(session)
            record_audit(
                session,
                actor=actor,
                action="contract.contact_changed",
                target=f"contract:{contract.id}",
                before={"customer": contract.customer.name, **before},
                after={"customer": contract.customer.name, **after},
            )
    return ContactChange(contract.id, contract.customer.name, before, after)
