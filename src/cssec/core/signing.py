"""Ed25519 status statements: how a server trusts what the vendor says about its license.

An envelope is `{"statement": {...}, "alg": "ed25519", "kid": "...", "signature": b64}`.
The signature covers the canonical JSON of statement, alg and kid together, so neither
the algorithm nor the key id can be swapped under a valid signature; `alg` is checked
against an allow-list before anything else, so "none" or an HMAC algorithm never gets a
say. Verification returns a value and never raises on what arrives over the network: a
status response is hostile input until its signature checks out. A rotated key is
trusted through an endorsement: an envelope the old key signs, vouching for the new one.

The keys themselves (ids, PEM, JWK, fingerprints) are in `signing_keys`, the key and
secret files in `secret_files`; both are re-exported here, where callers have always
found them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cssec.core.secret_files import load_or_create_signing_key, write_secret_file
from cssec.core.signing_keys import (
    FINGERPRINT_PREFIX,
    PUBLIC_KEY_LENGTH,
    FingerprintFormatError,
    SigningKey,
    VerifyingKey,
    kid_for,
    parse_fingerprint,
)

__all__ = [
    "ALG_ED25519",
    "ALLOWED_ALGS",
    "ENDORSEMENT_KIND",
    "FINGERPRINT_PREFIX",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH",
    "FingerprintFormatError",
    "SigningKey",
    "StatementCheck",
    "StatementError",
    "VerifyingKey",
    "canonical_json",
    "endorse_key",
    "follow_endorsements",
    "kid_for",
    "load_or_create_signing_key",
    "parse_fingerprint",
    "sign_statement",
    "verify_statement",
    "write_secret_file",
]

ALG_ED25519 = "ed25519"
ALLOWED_ALGS = frozenset({ALG_ED25519})
SIGNATURE_LENGTH = 64


def canonical_json(obj: Any) -> bytes:
    """The one byte string both sides sign and verify: sorted keys, no spaces, UTF-8.

    NaN and infinities are refused (ValueError): they are not JSON, and a statement
    another parser reads differently must not verify.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


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
