"""The server's data directory: where each file lives, and opening its database."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.secret_files import write_secret_file
from cssec.core.signing import VerifyingKey
from cssec.server.storage.tempfiles import create_temp, sweep_stale
from cssec.web.db import make_engine, sqlite_url, upgrade_to_head
from cssec.web.filemodes import create_private, secure_data_dir

MIGRATIONS = Path(__file__).parent.parent / "migrations"


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
    def backup_key(self) -> Path:
        """The key that authenticates this server's backups (HMAC-SHA256, 0600). Never in a
        backup: a restore is given it with --key-file."""
        return self.root / "backup.key"

    @property
    def vendor_keys(self) -> Path:
        return self.root / "vendor-keys.json"

    @property
    def identity_key(self) -> Path:
        """The server's own Ed25519 key (PEM, 0600): it signs air-gapped renewal requests
        (licensing.offline_renewal). Created at install, or on first use by an older one."""
        return self.root / "server-identity.key"

    @property
    def tls_cert(self) -> Path:
        """The server's TLS certificate (PEM), served by `serve` and pinned by clients."""
        return self.root / "tls-cert.pem"

    @property
    def tls_key(self) -> Path:
        """Its private key (PEM, 0600)."""
        return self.root / "tls-key.pem"

    @property
    def tls_renewals(self) -> Path:
        """Renewal statements, each signed by the key it replaced (server.tls)."""
        return self.root / "tls-renewals.json"

    @property
    def vendor_tls(self) -> Path:
        """How to reach the vendor: its CA file's name, whether plain HTTP was allowed."""
        return self.root / "vendor-tls.json"

    @property
    def vendor_ca(self) -> Path:
        """The CA certificates given with --vendor-ca-file, copied at install."""
        return self.root / "vendor-ca.pem"

    def is_installed(self) -> bool:
        return self.database.is_file()

    def engine(self) -> Engine:
        return sqlite_engine(self.database)

    def read_session_secret(self) -> str:
        return self.session_secret.read_text(encoding="ascii").strip()

    def read_vendor_keys(self) -> dict[str, VerifyingKey]:
        """The pinned vendor public keys by kid; empty when none were pinned yet (an offline
        install pinned by fingerprint pins the keys on first contact)."""
        return self.read_vendor_trust().keys

    def read_vendor_trust(self) -> PinnedVendorKeys:
        """Everything the keys file holds: the pinned keys, the endorsements that vouched for
        the ones learned by rotation (handed to clients so they can follow the same chain),
        and the fingerprints given at install that the first contact's keys must match."""
        if not self.vendor_keys.is_file():
            return PinnedVendorKeys()
        data = json.loads(self.vendor_keys.read_text(encoding="utf-8"))
        keys = [VerifyingKey.from_jwk(jwk) for jwk in data.get("keys", [])]
        endorsements = data.get("endorsements", [])
        fingerprints = data.get("fingerprints", [])
        return PinnedVendorKeys(
            keys={key.kid: key for key in keys},
            endorsements=list(endorsements) if isinstance(endorsements, list) else [],
            fingerprints=[str(f) for f in fingerprints] if isinstance(fingerprints, list) else [],
        )

    def write_vendor_keys(
        self,
        keys: list[VerifyingKey],
        *,
        endorsements: Sequence[Any] = (),
        fingerprints: Sequence[str] = (),
    ) -> None:
        write_secret_file(self.vendor_keys, _keys_body(keys, endorsements, fingerprints))

    def stage_vendor_keys(
        self,
        keys: list[VerifyingKey],
        *,
        endorsements: Sequence[Any] = (),
        fingerprints: Sequence[str] = (),
    ) -> Path:
        """A complete, fsynced 0600 copy of the keys file under a temporary name, for
        `place_vendor_keys` to rename into place once the pin's event is committed. Stale
        staged files (their writer was killed) are removed first."""
        base = f".{self.vendor_keys.name}."
        sweep_stale(self.root, base, ".tmp")
        fd, tmp = create_temp(self.root, base, ".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(_keys_body(keys, endorsements, fingerprints))
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def place_vendor_keys(self, staged: Path) -> None:
        """Rename a staged keys file into place (atomic) and make the rename durable."""
        staged.replace(self.vendor_keys)
        _sync_directory(self.root)


@dataclass(frozen=True)
class PinnedVendorKeys:
    keys: dict[str, VerifyingKey] = field(default_factory=dict)
    endorsements: list[Any] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)


def _keys_body(
    keys: list[VerifyingKey], endorsements: Sequence[Any], fingerprints: Sequence[str]
) -> bytes:
    body: dict[str, Any] = {"keys": [key.to_jwk() for key in keys]}
    if endorsements:
        body["endorsements"] = list(endorsements)
    if fingerprints:
        body["fingerprints"] = list(fingerprints)
    return json.dumps(body, indent=2).encode("utf-8")


def _sync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # file systems that refuse fsync on directories
        pass
    finally:
        os.close(dir_fd)


def sqlite_engine(path: Path) -> Engine:
    """WAL, foreign keys, busy timeout (web.db), and BEGIN IMMEDIATE.

    `serve` and the CLI write the same file. Taking the write lock at BEGIN makes a
    second writer wait for the busy timeout instead of failing when its read transaction
    would have to become a write one; every transaction here is short.
    """
    if path.parent.is_dir():
        create_private(path)  # 0600 before SQLite opens it: its -wal and -shm follow
    engine = make_engine(sqlite_url(path))

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_database(data_dir: DataDir) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory on an installed data directory, migrated to head. The
    directory's file modes are checked first (`cssec.web.filemodes`: loose ones fixed and
    logged, another owner's files refused)."""
    secure_data_dir(data_dir.root)
    engine = data_dir.engine()
    upgrade_to_head(engine, MIGRATIONS)
    return engine, sessionmaker(engine, expire_on_commit=False)
