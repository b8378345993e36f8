"""The vendor's tables (SQLAlchemy 2.0 typed ORM); the Alembic history in migrations/ creates them.

Serials: a registration key's serial is its row id, an activation code's serial is its
row id. Sequential serials reveal nothing usable because every code carries a MAC.
Timestamps are aware UTC datetimes on every backend (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from cssec.web.lockout_db import throttle_tables

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite hands back naive values, which are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProductRow(Base):
    """The catalog, seeded by the first migration (CS and DCS)."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    code_prefix: Mapped[str] = mapped_column(String(2), unique=True)
    version_type: Mapped[str] = mapped_column(String(16))
    default_grace_days: Mapped[int] = mapped_column(Integer)
    default_seats: Mapped[int] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def name_in(self, lang: str) -> str:
        return self.name_en if lang.lower().startswith("en") else self.name_ja


class Customer(Base):
    """A customer name, as a label to search and list by: it grants no access. The contact
    that receives notices and signs into the portal belongs to each contract
    (`Contract.contact_email`); the two columns below are kept only for old readers and
    are no longer read (migration b2c3d4e5f6a8 moved them onto the contracts)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    company: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    """Unused since b2c3d4e5f6a8 (see `Contract.contact_email`)."""
    language: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")
    """Unused since b2c3d4e5f6a8 (see `Contract.contact_language`)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contracts: Mapped[list[Contract]] = relationship(back_populates="customer")


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    seats: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    """The contract's current end; a renewal moves it. Codes keep the end they were issued with."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contact_email: Mapped[str | None] = mapped_column(String(254))
    """This contract's own contact: where its notices go and who signs into the portal for it
    (with its registration key). None: the address given at its latest registration, if any
    (`services.notices.contact_of`). Never shared with another contract of the customer."""
    contact_language: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")
    """ja or en: the language of the notices mailed to the contact (services.notices)."""

    customer: Mapped[Customer] = relationship(back_populates="contracts")
    products: Mapped[list[ContractProduct]] = relationship(
        back_populates="contract", cascade="all, delete-orphan"
    )
    registration_key: Mapped[RegistrationKeyRow | None] = relationship(back_populates="contract")
    activation_codes: Mapped[list[ActivationCodeRow]] = relationship(
        back_populates="contract", order_by="ActivationCodeRow.id"
    )

    @property
    def product_codes(self) -> list[str]:
        return sorted((p.product for p in self.products), key=lambda c: (c != "CS", c))


class ContractProduct(Base):
    __tablename__ = "contract_products"

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    product: Mapped[str] = mapped_column(ForeignKey("products.code"), primary_key=True)

    contract: Mapped[Contract] = relationship(back_populates="products")


class RegistrationKeyRow(Base):
    __tablename__ = "registration_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    serial: Mapped[int | None] = mapped_column(Integer, unique=True)
    kid: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(32), unique=True)
    """Canonical 18 symbols, no hyphens (None only between insert and encode)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contract: Mapped[Contract] = relationship(back_populates="registration_key")


class ActivationCodeRow(Base):
    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    product: Mapped[str] = mapped_column(ForeignKey("products.code"))
    serial: Mapped[int | None] = mapped_column(Integer, unique=True)
    kid: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(40), unique=True)
    """Canonical 31 symbols, no hyphens."""
    seats: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by: Mapped[int | None] = mapped_column(ForeignKey("activation_codes.id"))
    """The code registration hands out instead of this one (set while this one was current)."""
    lineage_id: Mapped[int | None] = mapped_column(ForeignKey("activation_codes.id"), index=True)
    """The first code of this contract's product, which every code of the product shares (the
    first code's own id; None only between insert and the flush that sets it, as `text`)."""
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("activation_codes.id"), index=True, unique=True
    )
    """The code of the lineage issued just before this one (None for the first): revoking
    this code revokes that one too, and so on back to the first. Unique: a chain, not a tree."""
    covered_by_id: Mapped[int | None] = mapped_column(ForeignKey("activation_codes.id"))
    """Set when this code was revoked because a newer code of its lineage was: that code."""

    contract: Mapped[Contract] = relationship(back_populates="activation_codes")

    @property
    def is_current(self) -> bool:
        """Neither revoked nor replaced: what registration hands out for its product."""
        return self.revoked_at is None and self.replaced_by is None


class Registration(Base):
    """One C/S Sec. server registered with a contract's registration key."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("contract_id", "server_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    server_id: Mapped[str] = mapped_column(String(128))
    company: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)


class StatusCheck(Base):
    __tablename__ = "status_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activation_code_id: Mapped[int] = mapped_column(ForeignKey("activation_codes.id"), index=True)
    server_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    contract_end: Mapped[date] = mapped_column(Date)
    seats_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Clients the server counted as in use when it asked (None: it did not say)."""
    request_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    """The balancer's id of the request (nginx's X-Request-Id, from a trusted proxy only):
    a check retried on another node is recorded once (`services.status_log`)."""


class AuditEntry(Base):
    """Every support-desk / CLI / API action that changes something, written in its transaction."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class User(Base):
    """Support-desk staff of the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Part of every console session's fingerprint: bumped at logout, it ends the sessions
    signed in before (a copied cookie too), since a signed cookie has no server-side row."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Base32 TOTP secret once the second factor is enrolled (services.two_factor); a
    verifier needs it in the clear, so it is as secret as the database."""
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The 30-second time step of the last code accepted: that code, or an earlier one,
    is refused from then on (RFC 6238 §5.2)."""


class WebhookEndpoint(Base):
    """Where the vendor posts its events (Standard Webhooks), and which ones (services.webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    """whsec_<base64>: stored because signing needs it, never shown back; blanked on removal."""
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """One webhook post or one mail, written in the transaction that caused it and
    delivered after the commit, with retries (services.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The webhook-id (the same for every attempt: receivers deduplicate on it)."""
    channel: Mapped[str] = mapped_column(String(16))
    """webhook or mail."""
    event: Mapped[str] = mapped_column(String(64), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    recipient: Mapped[str | None] = mapped_column(String(254))
    contract_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    """pending, delivered, failed (retries exhausted) or cancelled (endpoint removed)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the last success or manual redelivery (the back-off step)."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Claimed by a sender until then; a sender that died leaves it to expire."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))

    endpoint: Mapped[WebhookEndpoint | None] = relationship()


class DeliveryAttempt(Base):
    """The delivery log: one row per attempt, with the HTTP (or SMTP) status and timing."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    """The attempt followed a manual redelivery."""


class ContractNotice(Base):
    """A notice decided for a contract (expiry 90/60/30/0 days ahead, grace end, seats
    exceeded): the unique key makes each one happen once, whatever runs the scheduler."""

    __tablename__ = "contract_notices"
    __table_args__ = (UniqueConstraint("contract_id", "kind", "occasion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(32))
    """The contract end it is about (a renewal starts new notices), or the day (seats)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipient: Mapped[str | None] = mapped_column(String(254))
    """Who was mailed (None: no contact address or no SMTP server; webhooks went anyway)."""


class PortalSignIn(Base):
    """One e-mailed sign-in link of the customer portal and, once used, the portal session
    it opened (cssec.vendor_service.services.portal). Only hashes of the link's token and
    of the session key are stored. A request whose registration key and e-mail do not
    match also gets a row, with no customer: the same work either way, and a link that
    can never sign in."""

    __tablename__ = "portal_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the link's token."""
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    """Informative only (the contract's customer); never grants access."""
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    """The contract whose registration key was given: the only contract the session shows."""
    email: Mapped[str | None] = mapped_column(String(254))
    """The contact address the link went to (None when nothing was sent)."""
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(64))
    """The address that asked for the link."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 (hex) of the session key in the portal cookie, set when the link is used."""
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Signed out (or timed out): the cookie, and any copy of it, stops working."""


class RecoveryCode(Base):
    """One of a staff member's single-use recovery codes for the second factor (argon2
    hash only; the codes are shown once, at enrolment)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


LOGIN_THROTTLE = throttle_tables(Base.metadata)
"""The console's password and second-factor failure counts (`cssec.web.lockout_db`): shared
by every worker, kept across restarts."""


class ApiToken(Base):
    """A token of the admin API (`/api/v1/admin/`, services.tokens): shown once at creation,
    stored as the SHA-256 of its 256 random bits; scoped per resource and verb."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    """The audit log's actor for its calls: token:<name>."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the whole token."""
    hint: Mapped[str] = mapped_column(String(16))
    """The token's first characters, to recognise it in a list (never enough to use it)."""
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class IdempotencyRecord(Base):
    """The first answer to an admin-API POST sent with an Idempotency-Key, per token: the
    same key and body get it again, another body with the key is refused."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the method, the path and the canonical JSON of the body."""
    status_code: Mapped[int | None] = mapped_column(Integer)
    """None while the first request is still running."""
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BulkJob(Base):
    """A bulk batch started through the admin API: it runs in the background in the worker
    that accepted it (services.bulk), the CSV is kept under data_dir/bulk/."""

    __tablename__ = "bulk_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    """queued, running, done or failed."""
    count: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    """seats, months, start, with_dcs, customer as asked."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_name: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    first_contract_id: Mapped[int | None] = mapped_column(Integer)
    last_contract_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The refusal's {code, message} when it failed."""
