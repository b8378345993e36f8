"""Ed25519 keys as both sides hold them: the vendor's signing key, the verifying key a
server pins (raw, PEM or RFC 8037 JWK), its key id and its fingerprint.

Key ids are derived from the public key ("ed25519-" + 16 hex of its SHA-256) so a server
and the vendor agree on them without a registry, and rotation is just a second key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_KEY_LENGTH = 32


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
