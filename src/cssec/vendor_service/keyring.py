"""The vendor's secrets on disk: HMAC keys for codes and Ed25519 keys for status statements.

Layout under ``<data_dir>/keys`` (directory 0700, every file 0600, written atomically)::

    hmac.json            {"current": 2, "keys": {"1": "<hex>", "2": "<hex>"}}
    signing.json         {"current": "ed25519-…", "trusted": ["ed25519-…", …]}
    signing-<kid>.pem    one PKCS#8 Ed25519 private key per signing kid
    endorsements.json    {"endorsements": [envelope, …]}: per rotation, the new signing key
                         vouched for by the one it replaced (`core.signing.endorse_key`)

Generated on first use, never hard-coded. Rotation adds a new HMAC key and a new signing
key and makes them current; the old ones stay trusted, so codes issued under them keep
verifying. A server that pinned an older public key meets the new kid on its next status
check, fetches GET /api/v1/keys and trusts the new key only through the endorsement chain
from a key it already pinned.
A running service notices a rotation done by the CLI (the files' mtimes change) and
reloads: the files are stat()ed at most once per `RECHECK_SECONDS` (by the injected clock),
not on every use of a key, so another process's rotation is picked up within a second.
A rotation through this object (`rotate`) is seen at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.core.clock import Clock, SystemClock
from cssec.core.codes import MacKey
from cssec.core.signing import SigningKey, VerifyingKey, endorse_key, write_secret_file

MAX_MAC_KID = 31  # the registration key's kid field is 5 bits
SECRET_BYTES = 32
RECHECK_SECONDS = 1.0
"""How often, at most, the key files' mtimes are checked for a rotation by another process."""


@dataclass(frozen=True)
class _Loaded:
    mac_secrets: dict[int, bytes]
    current_mac_kid: int
    signing_keys: dict[str, SigningKey]
    current_signing_kid: str
    stamp: tuple[int, ...]


class KeyringError(RuntimeError):
    """The key files are damaged or the key id space is exhausted."""


class Keyring:
    """Thread-safe view of the key files; reloads when another process rotates them
    (noticed within `recheck_seconds` of the clock)."""

    def __init__(
        self,
        directory: Path,
        *,
        clock: Clock | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
        create: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self._may_create = create  # only before the first load: see `open`
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._clock: Clock = clock or SystemClock()
        self._recheck_seconds = recheck_seconds
        self._checked_at: datetime | None = None  # when the stamp last matched the files

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        clock: Clock | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
        create: bool = True,
    ) -> Keyring:
        """Open the keyring at `directory`, generating the first keys when there are none
        and `create` allows it (`runtime.open_vendor` forbids it once the database holds
        codes: `cssec.vendor_service.keycheck`).

        Keys are generated only here, never later: key files that vanish under a running
        service are a KeyringError, not a reason to make new keys."""
        keyring = cls(directory, clock=clock, recheck_seconds=recheck_seconds, create=create)
        keyring._state()
        return keyring

    # --- public view ------------------------------------------------------------------

    @property
    def mac_secrets(self) -> Mapping[int, bytes]:
        """Every trusted HMAC key (kid → secret): what MAC verification accepts."""
        return dict(self._state().mac_secrets)

    @property
    def current_mac_key(self) -> MacKey:
        """The key new codes are issued under."""
        state = self._state()
        return MacKey(state.current_mac_kid, state.mac_secrets[state.current_mac_kid])

    @property
    def signing_key(self) -> SigningKey:
        """The key status statements are signed with."""
        state = self._state()
        return state.signing_keys[state.current_signing_kid]

    @property
    def verifying_keys(self) -> list[VerifyingKey]:
        """Every trusted public key, the current one first."""
        state = self._state()
        current = state.signing_keys[state.current_signing_kid]
        others = [k for kid, k in state.signing_keys.items() if kid != state.current_signing_kid]
        return [current.public, *(k.public for k in others)]

    def jwks(self) -> dict[str, list[Any]]:
        """The published key set: {"keys": [JWK, …], current first, "endorsements": [the
        rotations' endorsements, oldest first]}."""
        return {
            "keys": [key.to_jwk() for key in self.verifying_keys],
            "endorsements": self.endorsements(),
        }

    def endorsements(self) -> list[dict[str, Any]]:
        """Each rotation's endorsement of its new signing key by the key it replaced."""
        try:
            data = json.loads(self._endorsements_path.read_text())
        except FileNotFoundError:
            return []
        found: list[dict[str, Any]] = data["endorsements"]
        return found

    def rotate(self) -> tuple[int, str]:
        """Add a new HMAC key and a new signing key and make them current.

        Returns (new HMAC kid, new signing kid). Old keys stay trusted.
        """
        with self._lock, self._file_lock():
            state = self._read()
            new_mac_kid = max(state.mac_secrets) + 1
            if new_mac_kid > MAX_MAC_KID:
                raise KeyringError(f"no HMAC key id left (the code formats allow 0..{MAX_MAC_KID})")
            mac = dict(state.mac_secrets)
            mac[new_mac_kid] = secrets.token_bytes(SECRET_BYTES)
            signing = SigningKey.generate()
            write_secret_file(self._pem_path(signing.kid), signing.to_pem())
            # The key being replaced vouches for the new one (servers that pinned it follow
            # the chain); written before the new key becomes current.
            previous = state.signing_keys[state.current_signing_kid]
            endorsement = endorse_key(signing.public, previous, at=self._clock.now())
            chain = {"endorsements": [*self.endorsements(), endorsement]}
            write_secret_file(self._endorsements_path, json.dumps(chain, indent=2).encode())
            trusted = [signing.kid, *state.signing_keys]
            self._write_signing_index(signing.kid, trusted)
            self._write_hmac(new_mac_kid, mac)
            self._loaded = None
        self._state()
        return new_mac_kid, signing.kid

    # --- files ------------------------------------------------------------------------

    @property
    def _hmac_path(self) -> Path:
        return self.directory / "hmac.json"

    @property
    def _signing_index_path(self) -> Path:
        return self.directory / "signing.json"

    @property
    def _endorsements_path(self) -> Path:
        return self.directory / "endorsements.json"

    def _pem_path(self, kid: str) -> Path:
        return self.directory / f"signing-{kid}.pem"

    def _stamp(self) -> tuple[int, ...]:
        out: list[int] = []
        for path in (self._hmac_path, self._signing_index_path):
            try:
                st = path.stat()
            except FileNotFoundError:
                out += [0, 0]
            else:
                out += [st.st_mtime_ns, st.st_size]
        return tuple(out)

    def _fresh(self, now: datetime) -> bool:
        """Checked against the files less than `recheck_seconds` ago (a clock that went
        back counts as stale)."""
        checked = self._checked_at
        if checked is None or now < checked:
            return False
        return (now - checked).total_seconds() < self._recheck_seconds

    def _state(self) -> _Loaded:
        loaded = self._loaded
        now = self._clock.now()
        if loaded is not None and self._fresh(now):
            return loaded
        with self._lock:
            if self._loaded is None or self._loaded.stamp != self._stamp():
                missing = not self._hmac_path.exists() or not self._signing_index_path.exists()
                if missing and self._may_create:
                    with self._file_lock():
                        self._create_missing()
                self._loaded = self._read()
                self._may_create = False
            self._checked_at = now
            return self._loaded

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialises creation and rotation between processes (CLI next to `serve`)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as handle:  # 0600: nothing in keys/ is for anyone else
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _create_missing(self) -> None:
        if not self._signing_index_path.exists():
            signing = SigningKey.generate()
            write_secret_file(self._pem_path(signing.kid), signing.to_pem())
            self._write_signing_index(signing.kid, [signing.kid])
        if not self._hmac_path.exists():
            self._write_hmac(1, {1: secrets.token_bytes(SECRET_BYTES)})

    def _write_hmac(self, current: int, keys: Mapping[int, bytes]) -> None:
        body = {"current": current, "keys": {str(k): v.hex() for k, v in sorted(keys.items())}}
        write_secret_file(self._hmac_path, json.dumps(body, indent=2).encode() + b"\n")

    def _write_signing_index(self, current: str, trusted: list[str]) -> None:
        body = {"current": current, "trusted": trusted}
        write_secret_file(self._signing_index_path, json.dumps(body, indent=2).encode() + b"\n")

    def _read(self) -> _Loaded:
        stamp = self._stamp()
        try:
            hmac_doc: Any = json.loads(self._hmac_path.read_text())
            mac = {int(k): bytes.fromhex(v) for k, v in hmac_doc["keys"].items()}
            current_mac = int(hmac_doc["current"])
            index: Any = json.loads(self._signing_index_path.read_text())
            current_signing = str(index["current"])
            signing: dict[str, SigningKey] = {}
            for kid in index["trusted"]:
                key = SigningKey.from_pem(self._pem_path(str(kid)).read_bytes())
                if key.kid != kid:
                    raise KeyringError(f"signing-{kid}.pem holds key {key.kid}")
                signing[key.kid] = key
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"damaged vendor key files in {self.directory}: {exc}") from exc
        if current_mac not in mac or current_signing not in signing:
            raise KeyringError(f"damaged vendor key files in {self.directory}: no current key")
        if any(len(s) < SECRET_BYTES for s in mac.values()):
            raise KeyringError(f"damaged vendor key files in {self.directory}: short secret")
        return _Loaded(mac, current_mac, signing, current_signing, stamp)
