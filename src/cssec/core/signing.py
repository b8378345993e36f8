"""Ed25519 status statements: how a server trusts what the vendor says about its license.

An envelope is `{"statement": {...}, "alg": "ed25519", "kid": "...", "signature": b64}`.
The signature covers the canonical JSON of statement, alg and kid together, so neither
the algorithm nor the key id can be swapped under a valid signature; `alg` is checked
against an allow-list before anything else, so "none" or an HMAC algorithm never gets a
say. Verification returns a value and never raises on what arrives over the network: a
status response is hostile input until its signature checks out.

Key ids are derived from the public key ("ed25519-" + 16 hex of its SHA-256) so a server
and the vendor agree on them without a registry, and rotation is just a second key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = "ed25519"
ALLOWED_ALGS = frozenset({ALG_ED25519})
SIGNATURE_LENGTH = 64
PUBLIC_KEY_LENGTH = 32


def canonical_json(obj: Any) -> bytes:
    """The one byte string both sides sign and verify: sorted keys, no spaces, UTF-8.

    NaN and infinities are refused (ValueError): they are not JSON, and a statement
    another parser reads differently must not verify.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """RFC 7515 base64url, strictly: the URL-safe alphabet, no padding, no line breaks, and
    the one spelling `_b64url` gives (unused trailing bits zero), so a key has one text."""
    if not text.isascii():
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(data) != text:
        raise ValueError("not canonical unpadded base64url")
    return data


def kid_for(public_bytes: bytes) -> str:
    return "ed25519-" + hashlib.sha256(public_bytes).hexdigest()[:16]


FINGERPRINT_PREFIX = "sha256:"
_FINGERPRINT_HEX = 64


class FingerprintFormatError(ValueError):
    """What is wrong with a fingerprint, in Japanese (`ja`) and English (`en`, the str)."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en


def parse_fingerprint(text: str) -> str:
    """`sha256:<64 hex>` in its one spelling (lower case, no separators); accepts upper case
    and colon- or space-separated hex as printed by other tools. FingerprintFormatError (a
    ValueError) says what is wrong, in both languages."""
    value = text.strip()
    if not value.lower().startswith(FINGERPRINT_PREFIX):
        raise FingerprintFormatError(
            "先頭が sha256: ではありません", "a fingerprint starts with 'sha256:'"
        )
    digits = value[len(FINGERPRINT_PREFIX) :].replace(":", "").replace(" ", "").lower()
    if len(digits) != _FINGERPRINT_HEX:
        raise FingerprintFormatError(
            f"16進数が{len(digits)}桁です",
            f"a SHA-256 fingerprint has 64 hex digits, not {len(digits)}",
        )
    if any(ch not in "0123456789abcdef" for ch in digits):
        raise FingerprintFormatError(
            "sha256: の後に16進数以外の文字があります",
            "a fingerprint has only hex digits after 'sha256:'",
        )
    return FINGERPRINT_PREFIX + digits


class VerifyingKey:
    """A vendor public key as a server holds it (received at install, kept as PEM or JWK)."""

    __slots__ = ("_key", "kid", "raw")

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self.raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.kid = kid_for(self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyingKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"VerifyingKey(kid={self.kid!r})"

    @property
    def fingerprint(self) -> str:
        """`sha256:<64 hex>` of the raw public key: what an operator compares out of band
        (`cssec vendor keys public` prints it; `cssec server install --vendor-key-fingerprint`
        takes it)."""
        return FINGERPRINT_PREFIX + hashlib.sha256(self.raw).hexdigest()

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def from_raw(cls, raw: bytes) -> VerifyingKey:
        if len(raw) != PUBLIC_KEY_LENGTH:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def to_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_pem(cls, data: bytes) -> VerifyingKey:
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return cls(key)

    def to_jwk(self) -> dict[str, str]:
        """RFC 8037 form, for the vendor's published key set."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(self.raw),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerifyingKey:
        """Refuses anything but a public Ed25519 key, and a kid that names another key."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 JWK")
        if "d" in jwk:
            raise ValueError("a private JWK where a public key belongs")
        if jwk.get("alg", "EdDSA") != "EdDSA":
            raise ValueError("JWK alg must be EdDSA")
        x = jwk.get("x")
        if not isinstance(x, str):
            raise ValueError("JWK without x")
        try:
            raw = _b64url_decode(x)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("JWK x is not base64url") from exc
        key = cls.from_raw(raw)
        if "kid" in jwk and jwk["kid"] != key.kid:
            raise ValueError("JWK kid does not match its key")
        return key


class SigningKey:
    """The vendor's private key. Its kid is the public key's, so envelopes name it."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = VerifyingKey(key.public_key())

    @property
    def kid(self) -> str:
        return self.public.kid

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)


def _signed_bytes(statement: Any, alg: str, kid: str) -> bytes:
    return canonical_json({"alg": alg, "kid": kid, "statement": statement})


def sign_statement(statement: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    body = dict(statement)
    signature = key.sign(_signed_bytes(body, ALG_ED25519, key.kid))
    return {
        "statement": body,
        "alg": ALG_ED25519,
        "kid": key.kid,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


class StatementError(StrEnum):
    """Why an envelope was rejected, in the order the checks run."""

    MALFORMED_ENVELOPE = "malformed_envelope"
    UNSUPPORTED_ALG = "unsupported_alg"
    UNKNOWN_KID = "unknown_kid"
    KID_MISMATCH = "kid_mismatch"
    MALFORMED_STATEMENT = "malformed_statement"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True)
class StatementCheck:
    ok: bool
    statement: dict[str, Any] | None
    reason: str | None


class _Rejected(Exception):
    def __init__(self, reason: StatementError) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _signed_input(
    envelope: object, keys: Mapping[str, VerifyingKey]
) -> tuple[VerifyingKey, bytes, bytes]:
    """The key, signature and signed bytes of an envelope, or _Rejected naming the first flaw."""
    if not isinstance(envelope, Mapping):
        raise _Rejected(StatementError.MALFORMED_ENVELOPE)
    alg, kid = envelope.get("alg"), envelope.get("kid")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise _Rejected(StatementError.UNSUPPORTED_ALG)
    if not isinstance(kid, str):
        raise _Rejected(StatementError.MALFORMED_ENVELOPE)
    key = keys.get(kid)
    if key is None:
        raise _Rejected(StatementError.UNKNOWN_KID)
    if key.kid != kid:
        raise _Rejected(StatementError.KID_MISMATCH)
    statement = envelope.get("statement")
    if not isinstance(statement, dict):
        raise _Rejected(StatementError.MALFORMED_STATEMENT)
    signature_text = envelope.get("signature")
    if not isinstance(signature_text, str):
        raise _Rejected(StatementError.MALFORMED_SIGNATURE)
    try:
        signature = base64.b64decode(signature_text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _Rejected(StatementError.MALFORMED_SIGNATURE) from None
    if len(signature) != SIGNATURE_LENGTH:
        raise _Rejected(StatementError.MALFORMED_SIGNATURE)
    try:
        signed = _signed_bytes(statement, alg, kid)
    except (TypeError, ValueError, RecursionError):
        raise _Rejected(StatementError.MALFORMED_STATEMENT) from None
    return key, signature, signed


def verify_statement(envelope: object, keys: Mapping[str, VerifyingKey]) -> StatementCheck:
    """Check, in order: shape, alg in the allow-list, known kid, statement, signature.

    Only statement, alg and kid are signed and only the statement is returned; unknown
    top-level fields are ignored so the vendor can add some without breaking old servers.
    """
    try:
        key, signature, signed = _signed_input(envelope, keys)
    except _Rejected as rejected:
        return StatementCheck(ok=False, statement=None, reason=rejected.reason.value)
    if not key.verify(signature, signed):
        return StatementCheck(ok=False, statement=None, reason=StatementError.BAD_SIGNATURE.value)
    # Re-read from the signed bytes: the caller gets exactly what was signed, detached
    # from the envelope object.
    verified: dict[str, Any] = json.loads(signed)["statement"]
    return StatementCheck(ok=True, statement=verified, reason=None)


def _private_temp_file(path: Path, data: bytes) -> Path:
    """A fully written, fsynced 0600 sibling of `path`, ready to be renamed or linked in.

    mkstemp creates it 0600 before any byte lands in it, so there is no moment of loose
    permissions.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_secret_file(path: Path, data: bytes) -> None:
    """Write so that no reader ever sees a partial file or a moment of loose permissions.

    The rename is atomic on one file system, and the directory is synced so the rename
    survives a crash.
    """
    path = Path(path)
    tmp = _private_temp_file(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        pass
    finally:
        os.close(dir_fd)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """Load the key at `path`, creating it on first use.

    Creation links a fully written 0600 temporary file into place, and linking fails if
    the name exists, so two processes starting at once end up with the same key rather
    than each signing with one the other overwrote.
    """
    path = Path(path)
    if path.exists():
        return SigningKey.from_pem(path.read_bytes())
    key = SigningKey.generate()
    tmp = _private_temp_file(path, key.to_pem())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return SigningKey.from_pem(path.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return key


# --- Key rotation: the old key vouches for the new one ----------------------------------

ENDORSEMENT_KIND = "signing_key_endorsement"


def endorse_key(new: VerifyingKey, by: SigningKey, *, at: datetime) -> dict[str, Any]:
    """An envelope, signed with the key being replaced, that vouches for `new`: how a server
    that pinned the old key comes to trust the new one without trusting the network."""
    statement = {
        "v": 1,
        "kind": ENDORSEMENT_KIND,
        "jwk": new.to_jwk(),
        "endorsed_at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return sign_statement(statement, by)


def follow_endorsements(
    trusted: Mapping[str, VerifyingKey], endorsements: Iterable[object]
) -> dict[str, VerifyingKey]:
    """The keys `endorsements` vouch for through a chain that starts at a `trusted` key
    (old → new → newer …, in any order), by kid; only keys not already trusted. An
    endorsement that does not verify, is not an endorsement, or names a malformed key is
    ignored: a key set from the network adds nothing without a trusted signature."""
    known = dict(trusted)
    pending = list(endorsements)
    learned: dict[str, VerifyingKey] = {}
    progress = True
    while progress:
        progress = False
        for envelope in list(pending):
            check = verify_statement(envelope, known)
            statement = check.statement
            if not check.ok or statement is None or statement.get("kind") != ENDORSEMENT_KIND:
                continue
            pending.remove(envelope)
            try:
                key = VerifyingKey.from_jwk(statement["jwk"])
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if key.kid not in known:
                known[key.kid] = learned[key.kid] = key
                progress = True
    return learned
