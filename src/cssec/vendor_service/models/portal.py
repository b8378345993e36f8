"""The customer portal's e-mailed sign-in links and the sessions they open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cssec.vendor_service.models.base import Base, UTCDateTime


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
