"""The admin API: its tokens, the answers kept for Idempotency-Key retries, and the bulk
jobs it starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cssec.vendor_service.models.base import Base, UTCDateTime


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
