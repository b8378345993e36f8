"""The catalog, customers, contracts, and the codes issued for them: registration keys
and activation codes (with their lineage of reissues and revocations)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cssec.vendor_service.models.base import Base, UTCDateTime


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
