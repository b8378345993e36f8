"""Registered clients and one-time install tokens. Tokens are stored only as SHA-256
hashes: a copy of the database lets no one act as a client or install one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cssec.server.models.base import Base, UTCDateTime


class Client(Base):
    """One installed C/S Sec. client. `uid` is what the client knows itself by."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hostname: Mapped[str] = mapped_column(String(255), index=True)
    os: Mapped[str] = mapped_column(String(255))
    agent_version: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(16))  # web | remote | autopcc
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enrolled_ip: Mapped[str] = mapped_column(String(64))
    last_contact_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_ip: Mapped[str] = mapped_column(String(64))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(32), nullable=True)


class InstallToken(Base):
    """A one-time token for a web or remote install; a remote one is bound to a host name.

    A remote token that is neither used nor expired is a pending remote install.
    """

    __tablename__ = "install_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    route: Mapped[str] = mapped_column(String(16))  # web | remote
    hostname: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), nullable=True
    )
