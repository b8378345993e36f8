"""The customer portal's use cases: e-mailed sign-in links, portal sessions, what a signed-in
customer may see, and the new activation code an offline site needs after a renewal.

Sign-in is for one contract: the customer gives its registration key and its contact
e-mail (`notices.contact_of`: the contract's own contact, else the address of its latest
registration; never the customer's, which is a label). `request_sign_in` answers the
same whatever was given: it parses the key, runs the same queries, makes a token and
stores a row in every case; only when key and address match does the row name the
contract, and only then is there a mail to send (the caller sends it after the
response), to the stored contact address and nowhere else. The link works once, for
`link_minutes`; only the SHA-256 of its token is stored (a 256-bit random token needs no
slow hash). Using it (`redeem_sign_in`) opens a session whose key goes in the portal
cookie, again stored hashed; it ends after `SESSION_IDLE` unused, `SESSION_MAX` in all, or
at sign-out.

Flooding: a wrong address costs its sender only (the caller throttles per source
address; nothing is counted per key, so nobody can use a key to lock its contact out).
A right pair mails the contact at most once per `resend_after` while that link is
unused: the contact always holds a working link (`resend_after` is shorter than a link's
lifetime), and a flood from many addresses sends no more than that.

A session shows the contract whose key signed it in, and only while the address it signed
in with is still that contract's contact (staff changing the contact ends it at the next
request). A contact of several contracts signs in to each with its own key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cssec.core.codes import check_registration_key
from cssec.core.errors import CssecError
from cssec.core.license_files import parse_request
from cssec.vendor_service.errors import (
    LicenseRequestNotYours,
    NothingToRenew,
    PortalLinkInvalid,
)
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import (
    Contract,
    Customer,
    PortalSignIn,
    Registration,
    RegistrationKeyRow,
)
from cssec.vendor_service.services._context import keyring_of, now_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.issuance import current_code_rows, issue_replacement_code
from cssec.vendor_service.services.lookup import find_activation_code
from cssec.vendor_service.services.notices import contact_of
from cssec.web.security import constant_time_equal, new_token

LINK_LIFETIME = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
KEEP = timedelta(days=2)
"""Rows older than this are deleted (every link and session made from them is over)."""
ACTOR_PREFIX = "portal:"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_email(text: str) -> str:
    return text.strip().lower()


def portal_actor(email: str) -> str:
    """How the audit log names a customer acting in the portal."""
    return f"{ACTOR_PREFIX}{email}"


@dataclass(frozen=True)
class SignInLink:
    """What `request_sign_in` made: `recipient` None means nothing is to be sent."""

    token: str
    recipient: str | None
    language: str
    customer: str | None
    expires_at: datetime


def resend_interval(link_lifetime: timedelta) -> timedelta:
    """How long a right pair waits before the contact is mailed another link while the
    last one is unused: a third of a link's lifetime (at least a minute), so the last one
    mailed still has two thirds of its life when a new one is held back."""
    return max(timedelta(minutes=1), link_lifetime / 3)


def request_sign_in(
    session: Session,
    registration_key: str,
    email: str,
    *,
    source: str,
    language: str = "ja",
    link_lifetime: timedelta = LINK_LIFETIME,
    keys: Keyring | None = None,
) -> SignInLink:
    """A sign-in link for the contract of `registration_key` when `email` is its contact.

    Raises InvalidRegistrationKey only for a key that is malformed (a typo, which the key's
    own check character shows to anyone); for a well-formed key the work and the answer
    are the same whether it exists, whether the MAC holds and whether the address matches.
    Owns its transaction.
    """
    check = check_registration_key(registration_key, keyring_of(session, keys).mac_secrets)
    if check.value is None:
        raise check.to_error()
    token = new_token(32)
    wanted = digest(normalize_email(email))
    with transaction(session):
        now = now_utc(session)
        found = session.execute(
            select(Contract, Customer)
            .join(RegistrationKeyRow, RegistrationKeyRow.contract_id == Contract.id)
            .join(Customer, Customer.id == Contract.customer_id)
            .where(RegistrationKeyRow.text == check.value.text)
        ).first()
        contract, customer = (
            (found[0], found[1]) if found is not None and check.ok else (None, None)
        )
        cid = contract.id if contract is not None else -1
        # Always the second and third queries too, whatever the first found.
        fallback = session.scalar(
            select(Registration.contact_email)
            .where(Registration.contract_id == cid)
            .order_by(Registration.last_at.desc(), Registration.id.desc())
            .limit(1)
        )
        contact = normalize_email(
            (contract.contact_email if contract is not None else None) or fallback or ""
        )
        matched = constant_time_equal(digest(contact), wanted)
        matched = matched and contract is not None and bool(contact)
        pending = session.scalar(
            select(PortalSignIn.id)
            .where(
                PortalSignIn.contract_id == cid,
                PortalSignIn.email == contact,
                PortalSignIn.used_at.is_(None),
                PortalSignIn.created_at > now - resend_interval(link_lifetime),
                PortalSignIn.expires_at > now,
            )
            .limit(1)
        )
        send = matched and pending is None
        recipient = contact if send else None
        lang = language if language in {"ja", "en"} else "ja"
        session.add(
            PortalSignIn(
                token_hash=digest(token),
                customer_id=customer.id if send and customer is not None else None,
                contract_id=contract.id if send and contract is not None else None,
                email=recipient,
                language=lang,
                source=source[:64],
                created_at=now,
                expires_at=now + link_lifetime,
            )
        )
        session.execute(delete(PortalSignIn).where(PortalSignIn.created_at < now - KEEP))
        name = customer.name if send and customer is not None else None
    return SignInLink(
        token=token,
        recipient=recipient,
        language=lang,
        customer=name,
        expires_at=now + link_lifetime,
    )


@dataclass(frozen=True)
class PortalViewer:
    """A signed-in customer: the session's row, the one contract it is for, and the address
    used (that contract's contact when the session was opened)."""

    sign_in_id: int
    contract_id: int
    email: str

    @property
    def actor(self) -> str:
        return portal_actor(self.email)


@dataclass(frozen=True)
class PortalGrant:
    viewer: PortalViewer
    session_key: str
    """Goes in the portal cookie; the database keeps only its hash."""
    contract_id: int


def redeem_sign_in(session: Session, token: str) -> PortalGrant:
    """Use a sign-in link: PortalLinkInvalid when its token is unknown, used or expired (or
    was never going to sign anyone in). Audited as portal.signed_in on the contract whose
    key was given. Owns its transaction."""
    session_key = new_token(32)
    with transaction(session):
        now = now_utc(session)
        row = session.scalar(
            select(PortalSignIn).where(PortalSignIn.token_hash == digest(token)).with_for_update()
        )
        if (
            row is None
            or row.used_at is not None
            or row.expires_at <= now
            or row.contract_id is None
            or not row.email
            or not _still_contact(session, row.contract_id, row.email)
        ):
            raise PortalLinkInvalid()
        row.used_at = now
        row.last_seen_at = now
        row.session_hash = digest(session_key)
        record_audit(
            session,
            actor=portal_actor(row.email),
            action="portal.signed_in",
            target=f"contract:{row.contract_id}",
            before=None,
            after={"source": row.source},
        )
        viewer = PortalViewer(sign_in_id=row.id, contract_id=row.contract_id, email=row.email)
        contract_id = row.contract_id
    return PortalGrant(viewer=viewer, session_key=session_key, contract_id=contract_id)


def portal_viewer(session: Session, sign_in_id: int, session_key: str) -> PortalViewer | None:
    """The customer of a portal session, or None when it is unknown, ended, idle too long,
    too old, or its address is no longer the contract's contact (and it is then ended for
    good). Notes the visit. Owns its transaction."""
    with transaction(session):
        now = now_utc(session)
        row = session.get(PortalSignIn, sign_in_id, with_for_update=True)
        if (
            row is None
            or row.session_hash is None
            or not constant_time_equal(row.session_hash, digest(session_key))
            or row.ended_at is not None
            or row.contract_id is None
            or not row.email
        ):
            return None
        assert row.used_at is not None
        assert row.last_seen_at is not None
        if (
            now - row.last_seen_at > SESSION_IDLE
            or now - row.used_at > SESSION_MAX
            or not _still_contact(session, row.contract_id, row.email)
        ):
            row.ended_at = now
            return None
        row.last_seen_at = now
        return PortalViewer(sign_in_id=row.id, contract_id=row.contract_id, email=row.email)


def end_portal_session(session: Session, sign_in_id: int) -> None:
    """Sign out: the session, and every copy of its cookie, stops working. Owns its transaction."""
    with transaction(session):
        row = session.get(PortalSignIn, sign_in_id, with_for_update=True)
        if row is not None and row.ended_at is None:
            row.ended_at = now_utc(session)


def _still_contact(session: Session, contract_id: int, email: str) -> bool:
    contract = session.get(Contract, contract_id)
    if contract is None:
        return False
    contact = normalize_email(contact_of(session, contract) or "")
    return bool(contact) and constant_time_equal(contact, normalize_email(email))


def viewer_contracts(session: Session, viewer: PortalViewer) -> list[Contract]:
    """The contracts a signed-in customer may see: the one whose key signed them in, while
    the address they signed in with is still its contact; nothing else (not the other
    contracts of a customer of the same name, nor other contracts of the same contact)."""
    contract = session.get(Contract, viewer.contract_id)
    if contract is None or not _still_contact(session, contract.id, viewer.email):
        return []
    return [contract]


def viewer_contract(session: Session, viewer: PortalViewer, contract_id: int) -> Contract | None:
    return next((c for c in viewer_contracts(session, viewer) if c.id == contract_id), None)


def renewable_products(contract: Contract) -> list[str]:
    """Products whose current code encodes an earlier end than the contract's: after a
    renewal, what an offline site needs a new code for."""
    return [
        product
        for product, row in sorted(current_code_rows(contract).items())
        if row.expires_on < contract.ends_on
    ]


def issue_code_for_offline_site(
    session: Session,
    viewer: PortalViewer,
    contract_id: int,
    *,
    product: str,
    keys: Keyring | None = None,
) -> str:
    """The customer's own offline renewal: a new activation code carrying the contract's
    current end, by the console's reissue service (`issue_replacement_code`), audited as
    done by the customer. Only after a renewal (NothingToRenew otherwise: the current code
    already carries the end) and never over a revocation (RevocationNeedsAdmin)."""
    contract = viewer_contract(session, viewer, contract_id)
    if contract is None:
        raise PortalLinkInvalid()
    session.rollback()
    # Checked under the contract's row lock, in the transaction that then issues (the reissue
    # service runs in it and commits it): two requests racing (two tabs, a double click)
    # must not both see the old code and both issue a new one.
    try:
        locked = session.get(Contract, contract_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        current = current_code_rows(locked).get(product)
        if current is not None and current.expires_on >= locked.ends_on:
            raise NothingToRenew(product=product, ends_on=locked.ends_on.isoformat())
    except BaseException:
        session.rollback()
        raise
    # No current code (a revoked product, or one the contract lacks): the reissue service
    # refuses with its own reason.
    return issue_replacement_code(
        session, contract_id, product=product, actor=viewer.actor, keys=keys
    )


def respond_to_license_request(
    session: Session, viewer: PortalViewer, data: bytes, *, contract_id: int | None = None
) -> bytes:
    """Air-gapped renewal by file from the portal: the signed response to a server's
    request file (`services.offline_renewal.respond`, audited as the customer), when every
    code it names belongs to one of the customer's contracts (LicenseRequestNotYours
    otherwise; InvalidLicenseRequest for a file that is not a valid request). `contract_id`
    given (the page's contract): every code must be of that contract."""
    request = parse_request(data)
    mine = {c.id for c in viewer_contracts(session, viewer)}
    if contract_id is not None:
        mine &= {contract_id}
    for requested in request.codes:
        try:
            _parsed, row = find_activation_code(session, requested.activation_code)
        except CssecError:
            raise LicenseRequestNotYours() from None
        if row.contract_id not in mine:
            raise LicenseRequestNotYours()
    session.rollback()
    # Imported here: the portal's sign-in and pages do not depend on the file path.
    from cssec.vendor_service.services.offline_renewal import respond  # noqa: PLC0415

    return respond(session, data, actor=viewer.actor, now=now_utc(session))
