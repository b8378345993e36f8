"""The server's data directory: where each file lives, and opening its database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.signing import VerifyingKey, write_secret_file
from cssec.web.db import make_engine, sqlite_url, upgrade_to_head

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "server.db"

    @property
    def session_secret(self) -> Path:
        return self.root / "session.key"

    @property
    def vendor_keys(self) -> Path:
        return self.root / "vendor-keys.json"

    def is_installed(self) -> bool:
        return self.database.is_file()

    def engine(self) -> Engine:
        return sqlite_engine(self.database)

    def read_session_secret(self) -> str:
        return self.session_secret.read_text(encoding="ascii").strip()

    def read_vendor_keys(self) -> dict[str, VerifyingKey]:
        """The pinned vendor public keys by kid; empty when none were pinned (offline install)."""
        if not self.vendor_keys.is_file():
            return {}
        data = json.loads(self.vendor_keys.read_text(encoding="utf-8"))
        keys = [VerifyingKey.from_jwk(jwk) for jwk in data.get("keys", [])]
        return {key.kid: key for key in keys}

    def write_vendor_keys(self, keys: list[VerifyingKey]) -> None:
        body: dict[str, Any] = {"keys": [key.to_jwk() for key in keys]}
        write_secret_file(self.vendor_keys, json.dumps(body, indent=2).encode("utf-8"))


def sqlite_engine(path: Path) -> Engine:
    """WAL, foreign keys, busy timeout (web.db), and BEGIN IMMEDIATE.

    `serve` and the CLI write the same file. Taking the write lock at BEGIN makes a
    second writer wait for the busy timeout instead of failing when its read transaction
    would have to become a write one; every transaction here is short.
    """
    engine = make_engine(sqlite_url(path))

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_database(data_dir: DataDir) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory on an installed data directory, migrated to head."""
    engine = data_dir.engine()
    upgrade_to_head(engine, MIGRATIONS)
    return engine, sessionmaker(engine, expire_on_commit=False)
