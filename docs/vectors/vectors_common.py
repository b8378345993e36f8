# ruff: noqa: PLC0415  (imports kept near their one use)
"""What every vector generator module shares: the fixed keys, times and nonces, the `Cases`
collector, and builders of codes, statements and request files (see make_vectors.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac as hmac_mod
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyverify
from cryptography.hazmat.primitives.asymmetric import ed25519

from cssec.core import codes as codes_mod
from cssec.core._damm import with_check
from cssec.core.codes import MacKey, encode_activation_code
from cssec.core.license import Product
from cssec.core.license_files import (
    RequestedCode,
    build_request,
)
from cssec.core.signing import SigningKey, sign_statement

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
SERVER_ID = "srv-0f3a9c2e"
NONCE = "bm9uY2UtZm9yLXZlY3RvcnMtMDE"
OTHER_NONCE = "YW5vdGhlci1ub25jZS0wMDAwMDE"
FORMAT = 1


def seed(label: str) -> bytes:
    return hashlib.sha256(f"cssec-vectors/{label}".encode()).digest()


HMAC = {kid: seed(f"hmac/{kid}") for kid in (1, 2)}
UNTRUSTED_HMAC_KID = 5
UNTRUSTED_HMAC = seed(f"hmac/{UNTRUSTED_HMAC_KID}")
ED_LABELS = ("vendor-1", "vendor-2", "vendor-3", "outsider", "server-1", "server-2")
ED = {
    label: SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed(f"ed25519/{label}")))
    for label in ED_LABELS
}


def kid(label: str) -> str:
    return ED[label].kid


# --- helpers ----------------------------------------------------------------------------


class Cases:
    """The cases of one vector file; each verdict computed by pyverify and checked against
    what the case was written to show."""

    def __init__(self, stem: str, keys_file: dict[str, Any]) -> None:
        self.stem = stem
        self.keys_file = keys_file
        self.items: list[dict[str, Any]] = []
        self.verify = pyverify.VERIFIERS[stem]

    def add(self, case_id: str, description: str, intent: Any, **fields: Any) -> dict[str, Any]:
        case: dict[str, Any] = {"id": case_id, "description": description, **fields}
        verdict = self.verify(case, self.keys_file)
        _assert_intent(case_id, verdict, intent)
        case["expect"] = verdict
        if any(c["id"] == case_id for c in self.items):
            raise AssertionError(f"duplicate case id {case_id}")
        self.items.append(case)
        return case


def _assert_intent(case_id: str, verdict: dict[str, Any], intent: Any) -> None:
    """`intent` is None (valid), a reason string, or a callable on the verdict."""
    if callable(intent):
        ok = intent(verdict)
    elif intent is None:
        ok = verdict.get("ok") is True
    else:
        ok = verdict.get("ok") is False and verdict.get("reason") == intent
    if not ok:
        raise AssertionError(f"{case_id}: verdict {verdict} is not what it was written for")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pad_bits(signature: str) -> str:
    """The same bytes with the 4 unused bits of the last base64 character set to 1."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    if signature[-2:] != "==":
        raise AssertionError("a 64-byte signature ends with ==")
    last = alphabet.index(signature[-3])
    return signature[:-3] + alphabet[last | 0b1111] + "=="


def resign(envelope: dict[str, Any], label: str) -> dict[str, Any]:
    """The envelope's statement signed again by `label` (a well-signed variant)."""
    return sign_statement(envelope["statement"], ED[label])


def file_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- keys.json --------------------------------------------------------------------------


def keys_file() -> dict[str, Any]:
    ed = {}
    for label, key in ED.items():
        ed[label] = {
            "seed": seed(f"ed25519/{label}").hex(),
            "public": base64.urlsafe_b64encode(key.public.raw).rstrip(b"=").decode(),
            "kid": key.kid,
            "fingerprint": key.public.fingerprint,
            "jwk": key.public.to_jwk(),
        }
    return {
        "description": (
            "Fixed test keys. hmac: the vendor's code MAC secrets by key id (hex); "
            "hmac_untrusted: a secret a code is issued under in the vectors but that no "
            "verifier holds. ed25519: seed (RFC 8032 private key, hex), raw public key "
            "(base64url), kid, fingerprint and JWK. Never use these outside tests."
        ),
        "hmac": {str(k): v.hex() for k, v in HMAC.items()},
        "hmac_untrusted": {str(UNTRUSTED_HMAC_KID): UNTRUSTED_HMAC.hex()},
        "ed25519": ed,
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --- codes.json -------------------------------------------------------------------------

AC_PREFIX = {"CS": "CS", "DCS": "DC"}
ALPHABET = codes_mod.ALPHABET


def _prefix_value(prefix: str) -> int:
    return ALPHABET.index(prefix[0]) << 5 | ALPHABET.index(prefix[1])


def raw_activation_code(
    *,
    prefix: str = "CS",
    version: int = 1,
    version_type: int = 0,
    seats: int = 25,
    expires_on: date = date(2027, 12, 31),
    serial: int = 424242,
    mac_kid: int = 1,
    secret: bytes = HMAC[1],
) -> str:
    """An activation code built bit by bit (any field value), MAC'd and check-summed."""
    days = (expires_on - codes_mod.EXPIRY_EPOCH).days
    data = _prefix_value(prefix)
    for bits, value in ((4, version), (2, version_type), (16, seats), (16, days)):
        data = data << bits | value
    data = (data << 32 | serial) << 6 | mac_kid
    tag = hmac_mod.digest(secret, b"cssec-ac1" + data.to_bytes(11, "big"), "sha256")[:8]
    return with_check(data << 64 | int.from_bytes(tag, "big"), 30)


def raw_registration_key(*, version: int = 1, mac_kid: int = 1, serial: int = 7) -> str:
    data = (version << 5 | mac_kid) << 36 | serial
    tag = hmac_mod.digest(HMAC[mac_kid], b"cssec-rk1" + data.to_bytes(6, "big"), "sha256")[:5]
    return with_check(data << 40 | int.from_bytes(tag, "big"), 17)


# --- statements -------------------------------------------------------------------------


def status_statement(
    *,
    code: str,
    product: str = "CS",
    state: str = "activated",
    contract_end: date = date(2027, 12, 31),
    grace_days: int = 30,
    nonce: str | None = NONCE,
    issued_at: datetime = NOW,
    revoked_at: datetime | None = None,
) -> dict[str, Any]:
    """What the vendor signs (`vendor_service.services.status._statement`), by its code."""
    from cssec.vendor_service.services.status import (
        CodeFacts,
        _statement,
        standing_at,
    )

    parsed = codes_mod.parse_activation_code(code).value
    assert parsed is not None
    facts = CodeFacts(
        code_id=1,
        product=product,
        version_type="full",
        contract_end=contract_end,
        grace_days=grace_days,
        seats=25,
        customer="株式会社テスト",
        contract_id=1001,
    )
    statement = _statement(standing_at(parsed, facts, issued_at), SERVER_ID, nonce)
    if state != statement["state"]:
        raise AssertionError(f"dates give {statement['state']}, not {state}")
    if revoked_at is not None:
        statement["state"] = "revoked"
        statement["revoked_at"] = revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return statement


def rejection(code: str) -> dict[str, Any]:
    """What the vendor signs for a well-formed code it did not issue
    (`vendor_service.services.status.invalid_refusal`)."""
    from types import SimpleNamespace

    from cssec.vendor_service.services.status import UnknownCode, invalid_refusal

    parsed = codes_mod.parse_activation_code(code).value
    assert parsed is not None
    refusal = codes_mod.check_activation_code(code, {}).to_error()
    keyring: Any = SimpleNamespace(signing_key=ED["vendor-1"])
    answer = invalid_refusal(
        UnknownCode(parsed, refusal), server_id=SERVER_ID, nonce=NONCE, keyring=keyring, now=NOW
    )
    statement: dict[str, Any] = answer.fields["refusal"]["statement"]
    return statement


def sample_codes() -> tuple[str, str]:
    key1 = MacKey(1, HMAC[1])
    cs = encode_activation_code(
        product=Product.CS, seats=25, expires_on=date(2027, 12, 31), serial=424242, key=key1
    )
    dcs = encode_activation_code(
        product=Product.DCS, seats=25, expires_on=date(2027, 12, 31), serial=424243, key=key1
    )
    return cs.text, dcs.text


# --- license files ----------------------------------------------------------------------


def request_file(
    label: str = "server-1", *, nonce: str = NONCE, codes: list[RequestedCode] | None = None
) -> tuple[str, str]:
    cs, dcs = sample_codes()
    data, digest = build_request(
        ED[label],
        server_id=SERVER_ID,
        codes=codes or [RequestedCode("CS", cs), RequestedCode("DCS", dcs)],
        seats_used=3,
        nonce=nonce,
        created_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    return data.decode("utf-8"), digest


def edit_json(text: str, change: Callable[[dict[str, Any]], None]) -> str:
    body = json.loads(text)
    change(body)
    return file_text(body)
