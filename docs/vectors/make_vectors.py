# ruff: noqa: E501, T201, PLR0915  (a table of cases, one per call; a script that prints)
"""Write the protocol test vectors (docs/vectors/*.json) from cssec's implementation.

    .venv/bin/python docs/vectors/make_vectors.py          # rewrite the files
    .venv/bin/python docs/vectors/make_vectors.py --check  # exit 1 if they differ

Deterministic: every key is derived from a fixed label, every time and nonce is fixed,
and every signature scheme used is deterministic (Ed25519, HMAC, and ECDSA with RFC 6979
nonces for the one certificate renewal signed with P-256). Each case is built by the
implementation (`sign_statement`, `encode_activation_code`, `build_request`, ...), damaged
in one way where it is meant to be invalid, and its expected verdict is what cssec's own
verifier says (`pyverify.py`); the generator also asserts that verdict is the one the case
was written for, so a case cannot silently test something else.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac as hmac_mod
import json
import math
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pyverify  # noqa: E402

from cssec.core import codes as codes_mod  # noqa: E402
from cssec.core._damm import with_check  # noqa: E402
from cssec.core.certs import certificate_fingerprint, sign_renewal  # noqa: E402
from cssec.core.codes import MacKey, encode_activation_code, encode_registration_key  # noqa: E402
from cssec.core.install_tokens import join_install_token  # noqa: E402
from cssec.core.license import Product  # noqa: E402
from cssec.core.license_files import (  # noqa: E402
    RequestedCode,
    build_request,
    build_response,
    parse_request,
)
from cssec.core.signing import SigningKey, endorse_key, sign_statement  # noqa: E402

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
SERVER_ID = "srv-0f3a9c2e"
NONCE = "bm9uY2UtZm9yLXZlY3RvcnMtMDE"
OTHER_NONCE = "YW5vdGhlci1ub25jZS0wMDAwMDE"
FORMAT = 1


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"cssec-vectors/{label}".encode()).digest()


HMAC = {kid: _seed(f"hmac/{kid}") for kid in (1, 2)}
UNTRUSTED_HMAC_KID = 5
UNTRUSTED_HMAC = _seed(f"hmac/{UNTRUSTED_HMAC_KID}")
ED_LABELS = ("vendor-1", "vendor-2", "vendor-3", "outsider", "server-1", "server-2")
ED = {
    label: SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(_seed(f"ed25519/{label}")))
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _pad_bits(signature: str) -> str:
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
            "seed": _seed(f"ed25519/{label}").hex(),
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


def _replace(text: str, index: int, new: str) -> str:
    return text[:index] + new + text[index + 1 :]


def _other_symbol(symbol: str) -> str:
    return ALPHABET[(ALPHABET.index(symbol) + 7) % 32]


def _swap(text: str, index: int) -> str:
    if text[index] == text[index + 1]:
        raise AssertionError("swap of equal symbols")
    return text[:index] + text[index + 1] + text[index] + text[index + 2 :]


def _is_ok(part: str) -> Callable[[dict[str, Any]], bool]:
    return lambda v: v[part]["ok"] is True


def _fails(structure: str | None, full: str | None) -> Callable[[dict[str, Any]], bool]:
    def check(v: dict[str, Any]) -> bool:
        return v["structure"]["reason"] == structure and v["full"]["reason"] == full

    return check


def _fold_table() -> dict[str, Any]:
    """Every code point normalisation skips, and every non-ASCII one it reads as a symbol."""
    from cssec.core._symbols import _DROP, _fold_char  # noqa: PLC0415

    skip, symbols = [], {}
    # One NFKC pass over every code point, NUL-separated (NUL is a starter that composes
    # with nothing), finds the few whose NFKC is not themselves; every other non-ASCII code
    # point outside DROP and whitespace folds to nothing, so only these need _fold_char.
    everything = [chr(cp) for cp in range(1, 0x110000) if not 0xD800 <= cp <= 0xDFFF]
    normalized = unicodedata.normalize("NFKC", "\0".join(everything)).split("\0")
    if len(normalized) != len(everything):
        raise AssertionError("NFKC merged code points across NUL")
    for ch, norm in zip(everything, normalized, strict=True):
        cp = ord(ch)
        if cp >= 0x80 and norm == ch and not ch.isspace() and ch not in _DROP:
            continue  # _fold_char: not a separator, one non-ASCII code point: refused
        value = _fold_char(ch)
        if value == -1:
            skip.append(f"{cp:04X}")
        elif value >= 0 and cp >= 0x80:
            symbols[f"{cp:04X}"] = ALPHABET[value]
    return {"unicode_version": unicodedata.unidata_version, "skip": skip, "symbols": symbols}


def codes_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("codes", keys)
    key1, key2 = MacKey(1, HMAC[1]), MacKey(2, HMAC[2])
    cs = encode_activation_code(
        product=Product.CS, seats=25, expires_on=date(2027, 12, 31), serial=424242, key=key1
    )
    dcs = encode_activation_code(
        product=Product.DCS, seats=25, expires_on=date(2027, 12, 31), serial=424243, key=key2
    )
    high = encode_activation_code(
        product=Product.CS,
        seats=65535,
        expires_on=date(2179, 6, 6),
        serial=2**32 - 1,
        key=MacKey(63, _seed("hmac/63")),
    )
    low = encode_activation_code(
        product=Product.DCS, seats=1, expires_on=date(2000, 1, 1), serial=0, key=key1
    )
    rk = encode_registration_key(serial=20261207, key=key1)
    ac = "activation_code"
    valid = _fails(None, None)
    c.add("ac-valid-cs", "CS code, kid 1, as printed", valid, kind=ac, input=cs.formatted)
    c.add("ac-valid-dcs", "Damage Cleanup Services code, kid 2", valid, kind=ac, input=dcs.text)
    c.add(
        "ac-valid-extremes-high",
        "largest seats, serial and expiry; kid 63 (its secret is not in keys.json: structure "
        "valid, MAC unverifiable)",
        _fails(None, "mac_failed"),
        kind=ac,
        input=high.formatted,
    )
    c.add("ac-valid-extremes-low", "1 seat, serial 0, expiry 2000-01-01", valid, kind=ac,
          input=low.formatted)  # fmt: skip
    c.add(
        "ac-valid-expected-product",
        "the caller expects CS and gets CS",
        valid,
        kind=ac,
        input=cs.text,
        expected_product="CS",
    )
    # Forgiving input: every one of these is the same code as ac-valid-cs.
    forgiving = {
        "lowercase": cs.formatted.lower(),
        "no-hyphens-spaces": " ".join(cs.text[i : i + 3] for i in range(0, 31, 3)),
        "fullwidth": "".join(chr(ord(ch) + 0xFEE0) for ch in cs.formatted),
        "unicode-dashes": cs.formatted.replace("-", "\u2014", 2).replace("-", "\u30fc"),
        "invisible-characters": "\ufeff" + cs.formatted.replace("-", "\u200b") + "\u3000\n",
        "extra-hyphens": "--" + "-".join(cs.text) + "-",
        "halfwidth-prolonged-mark": cs.formatted.replace("-", "\uff70"),
        "tabs-and-nbsp": cs.formatted.replace("-", "\t\u00a0"),
        "unit-separator-is-space": cs.formatted.replace("-", "\x1f"),
    }
    for name, text in forgiving.items():
        c.add(f"ac-forgiving-{name}", f"normalised to ac-valid-cs ({name})",
              lambda v: v["full"]["ok"] and v["full"]["value"]["text"] == cs.text,
              kind=ac, input=text)  # fmt: skip
    lookalike = cs.text.replace("0", "O").replace("1", "I")
    if lookalike == cs.text:
        raise AssertionError("no 0 or 1 in the code")
    c.add("ac-forgiving-lookalikes", "O read as 0, I as 1, l as 1",
          lambda v: v["full"]["ok"] and v["full"]["value"]["text"] == cs.text,
          kind=ac, input=lookalike.replace("I", "l", 1))  # fmt: skip
    c.add("ac-forgiving-nfkc-compat", "mathematical bold and circled letters fold by NFKC",
          lambda v: v["full"]["ok"] and v["full"]["value"]["text"] == cs.text,
          kind=ac, input="\U0001d402\u24c8" + cs.text[2:])  # fmt: skip
    # Typos: every single-symbol substitution and adjacent transposition is caught.
    c.add("ac-bad-check-symbol", "the check symbol replaced",
          _fails("check_failed", "check_failed"), kind=ac,
          input=_replace(cs.text, 30, _other_symbol(cs.text[30])))  # fmt: skip
    c.add("ac-typo-substitution", "symbol 12 mistyped",
          _fails("check_failed", "check_failed"), kind=ac,
          input=_replace(cs.text, 11, _other_symbol(cs.text[11])))  # fmt: skip
    i = next(i for i in range(10, 30) if cs.text[i] != cs.text[i + 1])
    c.add("ac-typo-transposition", f"symbols {i + 1} and {i + 2} swapped",
          _fails("check_failed", "check_failed"), kind=ac, input=_swap(cs.text, i))  # fmt: skip
    c.add("ac-typo-transposition-check", "the last two symbols swapped",
          _fails("check_failed", "check_failed"), kind=ac,
          input=_swap(cs.text, 29) if cs.text[29] != cs.text[30] else _swap(cs.text, 28))  # fmt: skip
    # MAC failures: structurally fine, so only the vendor can tell.
    forged = raw_activation_code(serial=424242, secret=_seed("not-the-vendor"))
    c.add("ac-bad-mac", "well formed, MAC made with another secret",
          _fails(None, "mac_failed"), kind=ac, input=forged)  # fmt: skip
    tampered = raw_activation_code(seats=2500, secret=_seed("recomputed-check-only"))
    c.add("ac-tampered-seats", "seats raised and the check symbol recomputed (MAC not)",
          _fails(None, "mac_failed"), kind=ac, input=tampered)  # fmt: skip
    c.add("ac-unknown-mac-kid", f"issued under MAC kid {UNTRUSTED_HMAC_KID}, which no key has",
          _fails(None, "mac_failed"), kind=ac,
          input=raw_activation_code(mac_kid=UNTRUSTED_HMAC_KID, secret=UNTRUSTED_HMAC))  # fmt: skip
    # Structure.
    c.add("ac-empty", "only separators", _fails("empty", "empty"), kind=ac, input=" - -\u3000")
    c.add("ac-bad-character-u", "U is not in the alphabet (position 5 as typed)",
          lambda v: v["full"]["reason"] == "bad_character" and v["full"]["position"] == 5,
          kind=ac, input=_replace(cs.formatted, 4, "U"))  # fmt: skip
    c.add("ac-bad-character-ligature", "a character NFKC expands to two is refused",
          lambda v: v["full"]["reason"] == "bad_character" and v["full"]["position"] == 1,
          kind=ac, input="\ufb01" + cs.text[2:])  # fmt: skip
    c.add("ac-bad-character-kana", "full-width katakana",
          lambda v: v["full"]["reason"] == "bad_character" and v["full"]["position"] == 3,
          kind=ac, input=cs.text[:2] + "\u30a2" + cs.text[2:])  # fmt: skip
    c.add("ac-wrong-length", "one symbol missing",
          _fails("wrong_length", "wrong_length"), kind=ac, input=cs.text[:30])  # fmt: skip
    c.add("ac-wrong-kind", "a registration key where an activation code belongs",
          _fails("wrong_kind", "wrong_kind"), kind=ac, input=rk.formatted)  # fmt: skip
    c.add("ac-unsupported-version", "format version 2, check symbol valid",
          _fails("unsupported_version", "unsupported_version"), kind=ac,
          input=raw_activation_code(version=2))  # fmt: skip
    c.add("ac-unknown-prefix", "prefix ZZ names no product",
          lambda v: v["full"]["reason"] == "out_of_range" and v["full"]["position"] == 2,
          kind=ac, input=" " + raw_activation_code(prefix="ZZ"))  # fmt: skip
    c.add("ac-unknown-version-type", "version type 1 (reserved)",
          _fails("out_of_range", "out_of_range"), kind=ac,
          input=raw_activation_code(version_type=1))  # fmt: skip
    c.add("ac-zero-seats", "seats 0",
          _fails("out_of_range", "out_of_range"), kind=ac,
          input=raw_activation_code(seats=0))  # fmt: skip
    c.add("ac-wrong-product", "a DCS code where CS is expected (position of the prefix)",
          lambda v: v["full"]["reason"] == "wrong_product" and v["full"]["position"] == 2,
          kind=ac, input=" " + dcs.formatted, expected_product="CS")  # fmt: skip
    c.add("ac-wrong-product-and-forged", "wrong product and a bad MAC: the MAC is reported",
          _fails("wrong_product", "mac_failed"), kind=ac, input=forged,
          expected_product="DCS")  # fmt: skip
    # Registration keys.
    rkk = "registration_key"
    c.add("rk-valid", "registration key as printed", valid, kind=rkk, input=rk.formatted)
    c.add("rk-forgiving", "lower case, full width, look-alikes",
          lambda v: v["full"]["ok"] and v["full"]["value"]["text"] == rk.text, kind=rkk,
          input="".join(chr(ord(ch) + 0xFEE0) for ch in rk.formatted.lower())
          .replace("\uff10", "\uff4f"))  # fmt: skip
    c.add("rk-bad-check-symbol", "check symbol replaced",
          _fails("check_failed", "check_failed"), kind=rkk,
          input=_replace(rk.text, 17, _other_symbol(rk.text[17])))  # fmt: skip
    j = next(j for j in range(5, 17) if rk.text[j] != rk.text[j + 1])
    c.add("rk-typo-transposition", "two adjacent symbols swapped",
          _fails("check_failed", "check_failed"), kind=rkk, input=_swap(rk.text, j))  # fmt: skip
    c.add("rk-bad-mac", "MAC bits changed, check symbol recomputed",
          _fails(None, "mac_failed"), kind=rkk,
          input=with_check(((1 << 5 | 1) << 36 | 20261207) << 40
                           | int.from_bytes(rk.mac, "big") ^ 1, 17))  # fmt: skip
    c.add("rk-unknown-kid", "kid 2 has a secret, but the MAC was made with kid 1's",
          _fails(None, "mac_failed"), kind=rkk,
          input=with_check(((1 << 5 | 2) << 36 | 20261207) << 40
                           | int.from_bytes(rk.mac, "big"), 17))  # fmt: skip
    c.add("rk-unsupported-version", "version 3",
          _fails("unsupported_version", "unsupported_version"), kind=rkk,
          input=raw_registration_key(version=3))  # fmt: skip
    c.add("rk-wrong-kind", "an activation code where a registration key belongs",
          _fails("wrong_kind", "wrong_kind"), kind=rkk, input=cs.formatted)  # fmt: skip
    c.add("rk-wrong-length", "19 symbols",
          _fails("wrong_length", "wrong_length"), kind=rkk, input=rk.text + "0")  # fmt: skip
    c.add("rk-bad-character", "an asterisk",
          lambda v: v["full"]["reason"] == "bad_character" and v["full"]["position"] == 4,
          kind=rkk, input=rk.formatted[:3] + "*" + rk.formatted[4:])  # fmt: skip
    mac_inputs = {
        "ac-valid-cs": (b"cssec-ac1" + (cs._bits >> 69).to_bytes(11, "big")).hex()
        if cs._bits
        else codes_mod._ac_mac_input(cs).hex(),
        "rk-valid": codes_mod._rk_mac_input(rk).hex(),
    }
    return {
        "fold": _fold_table(),
        "description": (
            "Registration keys and activation codes. expect.structure: what a server checks "
            "offline (parse: characters, length, check symbol, version, ranges, expected "
            "product). expect.full: the vendor's check, which adds the MAC with keys.json's "
            "hmac secrets. position: 1-based code point index in the input as typed."
        ),
        "mac_inputs": mac_inputs,
        "cases": c.items,
    }


# --- canonical_json.json ----------------------------------------------------------------


def canonical_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("canonical_json", keys)
    ok = None
    c.add("object-key-order", "keys sorted, no spaces", ok,
          value={"b": 1, "a": [True, False, None], "c": {"z": "", "y": -7}})  # fmt: skip
    c.add("key-order-by-code-point", "U+E000 sorts before U+1F600 (UTF-16 order differs)", ok,
          value={"\U0001f600": 1, "\ue000": 2, "Z": 3, "a": 4, "\u00e9": 5})  # fmt: skip
    c.add("string-escapes", "control characters, quote, backslash; slash and DEL kept", ok,
          value={"s": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\"\\/\x7f"})  # fmt: skip
    c.add("non-ascii-raw", "non-ASCII as UTF-8, U+2028 and astral characters unescaped", ok,
          value={"s": "株式会社\u2028\U0001f600é"})  # fmt: skip
    c.add("integers", "integers in shortest decimal form", ok,
          value=[0, -1, 4294967295, 9007199254740991, -9007199254740991])  # fmt: skip
    c.add("nested-empty", "empty containers", ok, value={"a": {}, "b": [], "c": [{}]})
    c.add("lone-surrogate", "a string with an unpaired surrogate cannot be signed",
          "not_canonicalizable", value={"s": "\ud800"})  # fmt: skip
    return {
        "description": (
            "Canonical JSON, the bytes every Ed25519 signature in cssec covers. "
            "expect.canonical_hex: the UTF-8 bytes, hex."
        ),
        "cases": c.items,
    }


# --- statements -------------------------------------------------------------------------


def _status_statement(
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
    from cssec.vendor_service.services.status import (  # noqa: PLC0415
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


def _rejection(code: str) -> dict[str, Any]:
    """What the vendor signs for a well-formed code it did not issue
    (`vendor_service.services.status.invalid_refusal`)."""
    from types import SimpleNamespace  # noqa: PLC0415

    from cssec.vendor_service.services.status import UnknownCode, invalid_refusal  # noqa: PLC0415

    parsed = codes_mod.parse_activation_code(code).value
    assert parsed is not None
    refusal = codes_mod.check_activation_code(code, {}).to_error()
    keyring: Any = SimpleNamespace(signing_key=ED["vendor-1"])
    answer = invalid_refusal(
        UnknownCode(parsed, refusal), server_id=SERVER_ID, nonce=NONCE, keyring=keyring, now=NOW
    )
    statement: dict[str, Any] = answer.fields["refusal"]["statement"]
    return statement


def _sample_codes() -> tuple[str, str]:
    key1 = MacKey(1, HMAC[1])
    cs = encode_activation_code(
        product=Product.CS, seats=25, expires_on=date(2027, 12, 31), serial=424242, key=key1
    )
    dcs = encode_activation_code(
        product=Product.DCS, seats=25, expires_on=date(2027, 12, 31), serial=424243, key=key1
    )
    return cs.text, dcs.text


def envelopes_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("envelopes", keys)
    cs, _dcs = _sample_codes()
    base = sign_statement(_status_statement(code=cs), ED["vendor-1"])
    ctx = {"keys": [kid("vendor-1"), kid("vendor-2")]}

    def variant(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        env = copy.deepcopy(base)
        change(env)
        return env

    c.add("valid", "a status statement signed by vendor-1", None, envelope=base, context=ctx)
    c.add("valid-rotated-key", "signed by vendor-2, also trusted", None,
          envelope=resign(base, "vendor-2"), context=ctx)  # fmt: skip
    c.add("valid-extra-top-level-field", "unknown top-level fields are not signed and ignored",
          None, envelope=variant(lambda e: e.update(note="ignored")), context=ctx)  # fmt: skip
    c.add("not-an-object", "an array", "malformed_envelope", envelope=[base], context=ctx)
    c.add("alg-missing", "no alg", "unsupported_alg",
          envelope=variant(lambda e: e.pop("alg")), context=ctx)  # fmt: skip
    for alg in ("none", "EdDSA", "HS256", "ED25519"):
        c.add(f"alg-{alg.lower()}", f"alg {alg!r} is not in the allow-list", "unsupported_alg",
              envelope=variant(lambda e, a=alg: e.update(alg=a)), context=ctx)  # fmt: skip
    c.add("kid-not-string", "kid is a number", "malformed_envelope",
          envelope=variant(lambda e: e.update(kid=1)), context=ctx)  # fmt: skip
    c.add("kid-unknown", "signed by a key the verifier does not hold", "unknown_kid",
          envelope=resign(base, "outsider"), context=ctx)  # fmt: skip
    c.add("kid-swapped", "kid names vendor-2, signature is vendor-1's", "bad_signature",
          envelope=variant(lambda e: e.update(kid=kid("vendor-2"))), context=ctx)  # fmt: skip
    c.add("statement-not-object", "statement is a string", "malformed_statement",
          envelope=variant(lambda e: e.update(statement="{}")), context=ctx)  # fmt: skip
    c.add("statement-missing", "no statement", "malformed_statement",
          envelope=variant(lambda e: e.pop("statement")), context=ctx)  # fmt: skip
    c.add("signature-missing", "no signature", "malformed_signature",
          envelope=variant(lambda e: e.pop("signature")), context=ctx)  # fmt: skip
    c.add("signature-not-base64", "a character outside standard base64", "malformed_signature",
          envelope=variant(lambda e: e.update(signature="*" + e["signature"][1:])),
          context=ctx)  # fmt: skip
    c.add("signature-urlsafe-alphabet", "'-' and '_' are refused", "malformed_signature",
          envelope=variant(lambda e: e.update(
              signature=_b64(b"\xfb\xff" * 32).replace("+", "-").replace("/", "_"))),
          context=ctx)  # fmt: skip
    c.add("signature-whitespace", "a line break inside the base64", "malformed_signature",
          envelope=variant(lambda e: e.update(
              signature=e["signature"][:40] + "\n" + e["signature"][40:])),
          context=ctx)  # fmt: skip
    c.add("signature-short", "63 bytes", "malformed_signature",
          envelope=variant(lambda e: e.update(signature=_b64(bytes(63)))), context=ctx)  # fmt: skip
    c.add("signature-unpadded", "base64 without its padding", "malformed_signature",
          envelope=variant(lambda e: e.update(signature=e["signature"].rstrip("="))),
          context=ctx)  # fmt: skip
    c.add("signature-nonzero-pad-bits",
          "unused bits of the last base64 character set: the same 64 bytes, accepted", None,
          envelope=variant(lambda e: e.update(signature=_pad_bits(e["signature"]))),
          context=ctx)  # fmt: skip
    c.add("tampered-field", "seats changed after signing", "bad_signature",
          envelope=variant(lambda e: e["statement"].update(seats=250)), context=ctx)  # fmt: skip
    c.add("tampered-added-field", "a field added to the statement", "bad_signature",
          envelope=variant(lambda e: e["statement"].update(extra=True)), context=ctx)  # fmt: skip
    c.add("tampered-signature-bit", "one bit of the signature flipped", "bad_signature",
          envelope=variant(lambda e: e.update(signature=_b64(bytes(
              [base64.b64decode(e["signature"])[0] ^ 1])
              + base64.b64decode(e["signature"])[1:]))), context=ctx)  # fmt: skip
    c.add("statement-lone-surrogate", "a string that has no UTF-8 form",
          "malformed_statement",
          envelope=variant(lambda e: e["statement"].update(customer="\udc00")),
          context=ctx)  # fmt: skip
    non_ascii = sign_statement(
        {"v": 1, "kind": "vectors", "text": "株式会社\u2028\U0001f600", "\U0001f600": 1,
         "\ue000": 2}, ED["vendor-1"])  # fmt: skip
    c.add("valid-non-ascii", "non-ASCII values and keys (code point key order)", None,
          envelope=non_ascii, context=ctx)  # fmt: skip
    return {
        "description": (
            "Signed envelopes {statement, alg, kid, signature} checked alone "
            "(core.signing.verify_statement): context.keys lists the kids the verifier holds "
            "(keys.json)."
        ),
        "cases": c.items,
    }


def status_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("status_statements", keys)
    cs, dcs = _sample_codes()
    ctx = {
        "keys": [kid("vendor-1")],
        "activation_code": cs,
        "server_id": SERVER_ID,
        "product": "CS",
        "nonce": NONCE,
    }

    def add(case_id: str, description: str, intent: Any, statement: dict[str, Any],
            label: str = "vendor-1", **context: Any) -> None:  # fmt: skip
        c.add(case_id, description, intent, envelope=sign_statement(statement, ED[label]),
              context={**ctx, **context})  # fmt: skip

    add("valid-activated", "activated, bound to this code, server and nonce", None,
        _status_statement(code=cs))  # fmt: skip
    add("valid-grace", "contract ended 10 days ago: grace_period", None,
        _status_statement(code=cs, state="grace_period", contract_end=date(2026, 11, 27)))  # fmt: skip
    add("valid-expired", "past grace: still a valid statement, state expired", None,
        _status_statement(code=cs, state="expired", contract_end=date(2026, 1, 31)))  # fmt: skip
    add("valid-dcs", "the DCS slot", None, _status_statement(code=dcs, product="DCS"),
        activation_code=dcs, product="DCS")  # fmt: skip
    add("valid-not-stale", "issued at the same second as the slot's statement", None,
        _status_statement(code=cs), last_issued_at="2026-12-07T12:00:00Z")  # fmt: skip
    add("wrong-nonce", "the nonce of another request (a replay)", "nonce_mismatch",
        _status_statement(code=cs, nonce=OTHER_NONCE))  # fmt: skip
    add("nonce-missing", "a statement with no nonce where one was sent", "nonce_missing",
        _status_statement(code=cs, nonce=None))  # fmt: skip
    st = _status_statement(code=cs)
    add("nonce-null", "nonce present but null", "nonce_mismatch", {**st, "nonce": None})
    add("unsupported-version", "v 2", "unsupported_statement_version", {**st, "v": 2})
    add("other-code", "about another code", "activation_code_mismatch",
        _status_statement(code=dcs, product="DCS"))  # fmt: skip
    add("other-server", "for another server", "server_id_mismatch",
        {**st, "server_id": "srv-other"})  # fmt: skip
    add("other-product", "product DCS for the CS slot", "product_mismatch",
        {**st, "product": "DCS"})  # fmt: skip
    add("unknown-kid", "signed by a key not pinned", "unknown_kid", st, label="vendor-2")
    add("bad-contract-end", "contract_end is not a date", "malformed_statement",
        {**st, "contract_end": "2027-13-01"})  # fmt: skip
    add("negative-grace", "grace_days -1", "malformed_statement", {**st, "grace_days": -1})
    add("huge-grace", "grace_days 3651", "malformed_statement", {**st, "grace_days": 3651})
    add("zero-seats", "seats 0", "malformed_statement", {**st, "seats": 0})
    add("seats-string", 'seats "25"', "malformed_statement", {**st, "seats": "25"})
    add("issued-at-naive", "issued_at without a time zone", "malformed_statement",
        {**st, "issued_at": "2026-12-07T12:00:00"})  # fmt: skip
    add("unknown-version-type", "version_type trial", "malformed_statement",
        {**st, "version_type": "trial"})  # fmt: skip
    add("missing-state", "no state", "malformed_statement",
        {k: v for k, v in st.items() if k != "state"})  # fmt: skip
    add("stale", "older than the statement the slot already holds", "stale_statement",
        st, last_issued_at="2026-12-07T12:00:01Z")  # fmt: skip
    tampered = sign_statement(st, ED["vendor-1"])
    tampered["statement"]["contract_end"] = "2099-12-31"
    c.add("tampered-contract-end", "contract end moved after signing", "bad_signature",
          envelope=tampered, context=ctx)  # fmt: skip
    # Revocations: the same statement, state "revoked" and revoked_at.
    revoked_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    rev = _status_statement(code=cs, revoked_at=revoked_at)
    add("revocation-valid", "the vendor's signed word that the code was revoked", None, rev,
        expect_revocation=True)  # fmt: skip
    add("revocation-not-revoked", "a plain statement offered as a revocation",
        "not_a_revocation", st, expect_revocation=True)  # fmt: skip
    add("revocation-no-revoked-at", "state revoked without revoked_at", "malformed_statement",
        {k: v for k, v in rev.items() if k != "revoked_at"}, expect_revocation=True)  # fmt: skip
    add("revocation-naive-revoked-at", "revoked_at without a time zone", "malformed_statement",
        {**rev, "revoked_at": "2026-12-01T09:30:00"}, expect_revocation=True)  # fmt: skip
    add("revocation-replayed", "a revocation captured for another request", "nonce_mismatch",
        {**rev, "nonce": OTHER_NONCE}, expect_revocation=True)  # fmt: skip
    add("revocation-other-server", "a revocation for another server", "server_id_mismatch",
        {**rev, "server_id": "srv-other"}, expect_revocation=True)  # fmt: skip
    add("revocation-forged", "signed by a key not pinned", "unknown_kid", rev,
        label="outsider", expect_revocation=True)  # fmt: skip
    # Rejections: the vendor's signed "not a code we issued" (state invalid), no contract.
    forged = raw_activation_code(serial=999, secret=_seed("not-the-vendor"))
    rej = _rejection(forged)
    rctx = {"activation_code": forged, "expect_rejection": True}
    add("rejection-valid", "a well-formed code the vendor did not issue", None, rej, **rctx)
    add("rejection-unknown-state", "state unknown is a rejection too", None,
        {**rej, "state": "unknown"}, **rctx)  # fmt: skip
    add("rejection-not-rejected", "a plain statement offered as a rejection",
        "not_a_rejection", st, expect_rejection=True)  # fmt: skip
    add("rejection-replayed", "a rejection captured for another request", "nonce_mismatch",
        {**rej, "nonce": OTHER_NONCE}, **rctx)  # fmt: skip
    add("rejection-other-code", "a rejection of another code", "activation_code_mismatch",
        rej, expect_rejection=True)  # fmt: skip
    add("rejection-no-issued-at", "without issued_at", "malformed_statement",
        {k: v for k, v in rej.items() if k != "issued_at"}, **rctx)  # fmt: skip
    add("rejection-forged", "signed by a key not pinned", "unknown_kid", rej,
        label="outsider", **rctx)  # fmt: skip
    c.add("rejection-not-object", "the refusal's proof is not an object",
          "malformed_statement", envelope="signed", context={**ctx, **rctx})  # fmt: skip
    c.add("revocation-not-object", "the refusal's proof is not an object",
          "malformed_statement", envelope=[], context={**ctx, "expect_revocation": True})  # fmt: skip
    return {
        "description": (
            "Status statements, revocations and rejections as a server checks them "
            "(server.licensing.statements): the envelope, then the binding to the request "
            "(context: the code and product of the slot, this server's id, the nonce it "
            "sent, the kids it pinned; last_issued_at: the issued_at of the statement the "
            "slot already holds). expect_revocation / expect_rejection: the answer is a "
            "refusal that carries a revocation (state revoked) or a rejection (state invalid "
            "or unknown)."
        ),
        "cases": c.items,
    }


# --- endorsements.json ------------------------------------------------------------------


def endorsements_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("endorsements", keys)
    at1, at2 = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    e12 = endorse_key(ED["vendor-2"].public, ED["vendor-1"], at=at1)
    e23 = endorse_key(ED["vendor-3"].public, ED["vendor-2"], at=at2)
    probe = sign_statement({"v": 1, "kind": "probe", "signed_by": "vendor-3"}, ED["vendor-3"])
    trusted1 = {"trusted": [kid("vendor-1")]}

    def learned(*labels: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["learned"] == sorted(kid(x) for x in labels)

    c.add("chain-in-order", "vendor-1 → vendor-2 → vendor-3", learned("vendor-2", "vendor-3"),
          endorsements=[e12, e23], context=trusted1, probe=probe)  # fmt: skip
    c.add("chain-any-order", "the same chain listed newest first",
          learned("vendor-2", "vendor-3"), endorsements=[e23, e12], context=trusted1,
          probe=probe)  # fmt: skip
    c.add("chain-broken", "the middle link missing: vendor-3 is not reachable", learned(),
          endorsements=[e23], context=trusted1, probe=probe)  # fmt: skip
    c.add("chain-from-middle", "trusting vendor-2 already", learned("vendor-3"),
          endorsements=[e12, e23], context={"trusted": [kid("vendor-2")]})  # fmt: skip
    bad = copy.deepcopy(e12)
    bad["statement"]["endorsed_at"] = "2026-06-02T00:00:00Z"
    c.add("link-tampered", "the first link altered after signing", learned(),
          endorsements=[bad, e23], context=trusted1, probe=probe)  # fmt: skip
    by_outsider = endorse_key(ED["vendor-3"].public, ED["outsider"], at=at2)
    c.add("link-untrusted-signer", "vendor-3 vouched for by a key nobody trusts", learned(),
          endorsements=[by_outsider], context=trusted1, probe=probe)  # fmt: skip
    wrong_kind = copy.deepcopy(e12["statement"])
    wrong_kind["kind"] = "status"
    c.add("link-wrong-kind", "a signed statement of another kind carrying a JWK", learned(),
          endorsements=[sign_statement(wrong_kind, ED["vendor-1"])], context=trusted1)  # fmt: skip
    with_d = copy.deepcopy(e12["statement"])
    with_d["jwk"]["d"] = base64.urlsafe_b64encode(bytes(32)).rstrip(b"=").decode()
    c.add("link-private-jwk", "the endorsed JWK carries a private part", learned(),
          endorsements=[sign_statement(with_d, ED["vendor-1"])], context=trusted1)  # fmt: skip
    kid_lie = copy.deepcopy(e12["statement"])
    kid_lie["jwk"]["kid"] = kid("vendor-3")
    c.add("link-jwk-kid-mismatch", "the JWK's kid is not its key's", learned(),
          endorsements=[sign_statement(kid_lie, ED["vendor-1"])], context=trusted1)  # fmt: skip
    bad_alg = copy.deepcopy(e12["statement"])
    bad_alg["jwk"]["alg"] = "ES256"
    c.add("link-jwk-alg", "the JWK's alg is not EdDSA", learned(),
          endorsements=[sign_statement(bad_alg, ED["vendor-1"])], context=trusted1)  # fmt: skip
    c.add("link-garbage", "entries that are not envelopes are skipped", learned("vendor-2"),
          endorsements=[None, "x", [], {"statement": {}}, e12], context=trusted1)  # fmt: skip
    return {
        "description": (
            "Vendor key rotation (core.signing.endorse_key / follow_endorsements): from the "
            "context's trusted kids, which keys the endorsements add (expect.learned, sorted "
            "kids); probe: a statement signed by vendor-3, checked with trusted + learned."
        ),
        "cases": c.items,
    }


# --- license files ----------------------------------------------------------------------


def _request(
    label: str = "server-1", *, nonce: str = NONCE, codes: list[RequestedCode] | None = None
) -> tuple[str, str]:
    cs, dcs = _sample_codes()
    data, digest = build_request(
        ED[label],
        server_id=SERVER_ID,
        codes=codes or [RequestedCode("CS", cs), RequestedCode("DCS", dcs)],
        seats_used=3,
        nonce=nonce,
        created_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    return data.decode("utf-8"), digest


def _edit_json(text: str, change: Callable[[dict[str, Any]], None]) -> str:
    body = json.loads(text)
    change(body)
    return file_text(body)


def requests_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("license_requests", keys)
    text, digest = _request()
    c.add("valid", "a request for CS and DCS, 3 clients in use",
          lambda v: v["ok"] and v["request_sha256"] == digest, file=text)  # fmt: skip
    c.add("valid-reformatted", "whitespace changed on the way: same digest",
          lambda v: v["ok"] and v["request_sha256"] == digest,
          file=json.dumps(json.loads(text), separators=(",", ":")))  # fmt: skip
    c.add("valid-bom", "saved with a UTF-8 byte order mark",
          lambda v: v["ok"] and v["request_sha256"] == digest, file="\ufeff" + text)  # fmt: skip
    c.add("not-json", "not JSON", "not_json", file=text[:-20])
    c.add("tampered-seats", "seats_used changed after signing", "bad_signature",
          file=_edit_json(text, lambda b: b["statement"].update(seats_used=1)))  # fmt: skip
    c.add("key-swapped", "public_key replaced by another key", "unknown_kid",
          file=_edit_json(text, lambda b: b.update(public_key=ED["server-2"].public.to_jwk())))  # fmt: skip
    c.add("key-missing", "no public_key", "bad_public_key",
          file=_edit_json(text, lambda b: b.pop("public_key")))  # fmt: skip
    c.add("key-private", "public_key carries a private part", "bad_public_key",
          file=_edit_json(text, lambda b: b["public_key"].update(d="AAAA")))  # fmt: skip

    def signed_variant(change: Callable[[dict[str, Any]], None]) -> str:
        body = json.loads(text)
        statement = body["statement"]
        change(statement)
        envelope = sign_statement(statement, ED["server-1"])
        envelope["public_key"] = ED["server-1"].public.to_jwk()
        return file_text(envelope)

    c.add("not-a-request", "signed, but kind license_response", "not_a_request",
          file=signed_variant(lambda s: s.update(kind="license_response")))  # fmt: skip
    c.add("unsupported-version", "v 2", "unsupported_version",
          file=signed_variant(lambda s: s.update(v=2)))  # fmt: skip
    c.add("short-nonce", "a nonce of 15 characters", "malformed",
          file=signed_variant(lambda s: s.update(nonce="abcdefghijklmno")))  # fmt: skip
    c.add("bad-server-id", "a server id with a space", "malformed",
          file=signed_variant(lambda s: s.update(server_id="srv 1")))  # fmt: skip
    c.add("no-codes", "an empty code list", "no_codes",
          file=signed_variant(lambda s: s.update(codes=[])))  # fmt: skip
    c.add("naive-created-at", "created_at without a time zone", "malformed",
          file=signed_variant(lambda s: s.update(created_at="2026-12-07T09:00:00")))  # fmt: skip
    return {
        "description": (
            "Air-gapped renewal requests (core.license_files.parse_request), what the vendor "
            "checks; expect.request_sha256: the digest a response must name."
        ),
        "cases": c.items,
    }


def responses_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("license_responses", keys)
    cs, dcs = _sample_codes()
    text, digest = _request()
    request = parse_request(text.encode())

    def statement(code: str, product: str, **kw: Any) -> dict[str, Any]:
        st = _status_statement(code=code, product=product, **kw)
        st["request_sha256"] = digest
        return st

    def response(envelopes: list[dict[str, Any]], **kw: Any) -> str:
        data = build_response(request, envelopes, keys=[ED["vendor-1"].public], **kw)
        return data.decode("utf-8")

    st_cs, st_dcs = statement(cs, "CS"), statement(dcs, "DCS")
    good = [sign_statement(st_cs, ED["vendor-1"]), sign_statement(st_dcs, ED["vendor-1"])]
    ctx = {
        "server_id": SERVER_ID,
        "pinned": [kid("vendor-1")],
        "request": {
            "nonce": NONCE,
            "request_sha256": digest,
            "codes": [{"product": "CS", "activation_code": cs},
                      {"product": "DCS", "activation_code": dcs}],
        },
    }  # fmt: skip
    c.add("valid", "both codes renewed", None, file=response(good), context=ctx)
    revoked = statement(cs, "CS", revoked_at=datetime(2026, 12, 1, tzinfo=UTC))
    c.add("valid-with-revocation", "CS revoked, DCS renewed",
          lambda v: v["ok"] and v["statements"][0]["state"] == "revoked",
          file=response([sign_statement(revoked, ED["vendor-1"]), good[1]]), context=ctx)  # fmt: skip
    e12 = endorse_key(ED["vendor-2"].public, ED["vendor-1"], at=datetime(2026, 6, 1, tzinfo=UTC))
    c.add("valid-rotated", "signed by vendor-2, which vendor-1 (pinned) endorsed in the file",
          None, file=response([sign_statement(st_cs, ED["vendor-2"])], endorsements=[e12]),
          context=ctx)  # fmt: skip
    c.add("rotated-without-endorsement", "signed by vendor-2, no endorsement", "unknown_kid",
          file=response([sign_statement(st_cs, ED["vendor-2"])]), context=ctx)  # fmt: skip
    c.add("not-json", "truncated", "not_json", file=response(good)[:-30], context=ctx)
    c.add("not-a-response", "a request file imported as a response", "not_a_response",
          file=text, context=ctx)  # fmt: skip
    c.add("unsupported-version", "v 2", "unsupported_version",
          file=_edit_json(response(good), lambda b: b.update(v=2)), context=ctx)  # fmt: skip
    c.add("digest-not-hex", "request_sha256 in upper case", "malformed",
          file=_edit_json(response(good), lambda b: b.update(
              request_sha256=b["request_sha256"].upper())), context=ctx)  # fmt: skip
    c.add("keys-not-list", "keys is an object", "malformed",
          file=_edit_json(response(good), lambda b: b.update(keys={})), context=ctx)  # fmt: skip
    c.add("keys-absent", "no keys and no endorsements: they default to empty", None,
          file=_edit_json(response(good), lambda b: [b.pop("keys"), b.pop("endorsements")]),
          context=ctx)  # fmt: skip
    c.add("no-statements", "an empty statement list", "malformed",
          file=_edit_json(response(good), lambda b: b.update(statements=[])), context=ctx)  # fmt: skip
    c.add("other-server", "the response names another server", "license_response_wrong_server",
          file=response(good), context={**ctx, "server_id": "srv-other"})  # fmt: skip
    c.add("unknown-request", "no pending request has this nonce",
          "license_response_unknown_request", file=response(good),
          context={**ctx, "request": {**ctx["request"], "nonce": OTHER_NONCE}})  # fmt: skip
    c.add("unknown-request-digest", "the nonce matches but the digest does not",
          "license_response_unknown_request",
          file=_edit_json(response(good), lambda b: b.update(request_sha256="0" * 64)),
          context=ctx)  # fmt: skip
    other_product = statement(cs, "CS")
    other_product["product"] = "XX"
    c.add("unrequested-product", "a statement for a product the request did not name",
          "product_mismatch",
          file=response([sign_statement(other_product, ED["vendor-1"])]), context=ctx)  # fmt: skip
    unbound = _status_statement(code=cs)
    c.add("statement-not-bound", "a statement without request_sha256 (from an online check)",
          "request_mismatch", file=response([sign_statement(unbound, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-wrong-nonce", "a statement bound to another nonce", "nonce_mismatch",
          file=response([sign_statement({**st_cs, "nonce": OTHER_NONCE}, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-wrong-code", "the CS statement names the DCS code",
          "activation_code_mismatch",
          file=response([sign_statement({**st_cs, "activation_code": dcs}, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-tampered", "contract_end moved in the file", "bad_signature",
          file=_edit_json(response(good), lambda b: b["statements"][0]["statement"].update(
              contract_end="2099-12-31")), context=ctx)  # fmt: skip
    c.add("statement-forged", "signed by a key the server does not trust", "unknown_kid",
          file=response([sign_statement(st_cs, ED["outsider"])]), context=ctx)  # fmt: skip
    c.add("second-statement-bad", "the first statement is fine, the second is not: nothing "
          "is applied", "bad_signature",
          file=_edit_json(response(good), lambda b: b["statements"][1]["statement"].update(
              seats=99)), context=ctx)  # fmt: skip
    return {
        "description": (
            "Air-gapped renewal responses as a server imports them "
            "(server.licensing.offline_renewal.import_response): context.request is the "
            "pending request the server remembers (its nonce, digest and codes); "
            "context.pinned the vendor kids it pinned."
        ),
        "cases": c.items,
    }


# --- cert_renewals.json -----------------------------------------------------------------


def _certificate(
    name: str, public: Any, issuer_name: str, issuer_key: ed25519.Ed25519PrivateKey, serial: int
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2036, 1, 1, tzinfo=UTC))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .sign(issuer_key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip


def _deterministic_es256(renewal: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> None:
    """cssec's ES256 signatures are randomised; the vectors' is RFC 6979 (same bytes signed)."""
    from cssec.core.signing import canonical_json  # noqa: PLC0415

    signed = canonical_json({"renewal": renewal["renewal"], "alg": renewal["alg"]})
    signature = key.sign(signed, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    renewal["signature"] = _b64(signature)


def _prime(label: str, bits: int) -> int:
    """The first probable prime (Miller-Rabin, 32 fixed bases) at or after a seeded start."""
    start = int.from_bytes(hashlib.shake_256(label.encode()).digest(bits // 8), "big")
    n = start | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
             73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131]  # fmt: skip
    sieve = bytearray([1]) * 2000
    for f in range(2, 45):
        sieve[f * f :: f] = bytes(len(sieve[f * f :: f]))
    small = math.prod(b for b in range(3, 2000) if sieve[b])
    while True:
        if math.gcd(n, small) != 1:
            n += 2
            continue
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in bases:
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            if (n - 1) % 65537:
                return n
        n += 2


def _rsa_key(label: str) -> rsa.RSAPrivateKey:
    """A 1024-bit RSA key derived from a label (RSA keys cannot be made from a seed; small
    because a test key need only be quick to derive)."""
    p, q = _prime(f"{label}/p", 512), _prime(f"{label}/q", 512)
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key()


def cert_renewals_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("cert_renewals", keys)
    k0 = ed25519.Ed25519PrivateKey.from_private_bytes(_seed("cert/0"))
    k1 = ec.derive_private_key(int.from_bytes(_seed("cert/1"), "big") % (2**255), ec.SECP256R1())
    k2 = ed25519.Ed25519PrivateKey.from_private_bytes(_seed("cert/2"))
    ca = ed25519.Ed25519PrivateKey.from_private_bytes(_seed("cert/ca"))
    c0 = _certificate("server.example", k0.public_key(), "server.example", k0, 1000)
    c1 = _certificate("server.example", k1.public_key(), "vectors issuer", ca, 1001)
    c2 = _certificate("server.example", k2.public_key(), "server.example", k2, 1002)
    fp = [certificate_fingerprint(x509.load_pem_x509_certificate(p).public_bytes(
        serialization.Encoding.DER)) for p in (c0, c1, c2)]  # fmt: skip
    r01 = sign_renewal(_pem(k0), c0, c1, at=datetime(2026, 6, 1, tzinfo=UTC))
    r12 = sign_renewal(_pem(k1), c1, c2, at=datetime(2026, 11, 1, tzinfo=UTC))
    _deterministic_es256(r12, k1)
    if r01["alg"] != "EdDSA" or r12["alg"] != "ES256":
        raise AssertionError("unexpected renewal algorithms")
    ctx = {"pinned": fp[0], "presented": fp[2]}

    def reached(index: int) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["ok"] and v["fingerprint"] == fp[index]

    c.add("chain", "cert 0 → 1 (EdDSA) → 2 (ES256)", reached(2), renewals=[r01, r12],
          context=ctx)  # fmt: skip
    c.add("chain-any-order", "the same renewals newest first", reached(2),
          renewals=[r12, r01], context=ctx)  # fmt: skip
    c.add("one-link", "pinned cert 0, shown cert 1", reached(1), renewals=[r01],
          context={"pinned": fp[0], "presented": fp[1]})  # fmt: skip
    c.add("missing-link", "the 0 → 1 renewal missing", "no_chain", renewals=[r12],
          context=ctx)  # fmt: skip

    def broken(renewal: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        out = copy.deepcopy(renewal)
        change(out)
        return out

    c.add("tampered-issued-at", "issued_at changed after signing", "no_chain",
          renewals=[broken(r01, lambda r: r["renewal"].update(issued_at="2020-01-01")), r12],
          context=ctx)  # fmt: skip
    c.add("fingerprint-mismatch", "new_fingerprint does not match new_cert", "no_chain",
          renewals=[broken(r01, lambda r: r["renewal"].update(new_fingerprint=fp[2])), r12],
          context=ctx)  # fmt: skip
    c.add("alg-not-allowed", "alg none", "no_chain",
          renewals=[broken(r01, lambda r: r.update(alg="none")), r12], context=ctx)  # fmt: skip
    c.add("alg-key-mismatch", "alg ES256 over an Ed25519 certificate's key", "no_chain",
          renewals=[broken(r01, lambda r: r.update(alg="ES256")), r12], context=ctx)  # fmt: skip
    c.add("signature-not-base64", "signature with a character outside base64", "no_chain",
          renewals=[broken(r01, lambda r: r.update(signature="!" + r["signature"][1:])), r12],
          context=ctx)  # fmt: skip
    c.add("signature-bit", "a bit of the ES256 signature's r flipped", "no_chain",
          renewals=[r01, broken(r12, lambda r: r.update(signature=_b64(
              base64.b64decode(r["signature"])[:10]
              + bytes([base64.b64decode(r["signature"])[10] ^ 1])
              + base64.b64decode(r["signature"])[11:])))], context=ctx)  # fmt: skip
    self_signed = sign_renewal(_pem(k2), c2, c2, at=datetime(2026, 11, 1, tzinfo=UTC))
    c.add("wrong-signer", "renewal 1 → 2 replaced by one the new key signed about itself",
          "no_chain", renewals=[r01, broken(r12, lambda r: r.update(
              signature=self_signed["signature"], alg="EdDSA"))], context=ctx)  # fmt: skip
    k3 = _rsa_key("cert/3")
    c3 = _certificate("server.example", k3.public_key(), "vectors issuer", ca, 1003)
    fp3 = certificate_fingerprint(
        x509.load_pem_x509_certificate(c3).public_bytes(serialization.Encoding.DER)
    )
    r30 = sign_renewal(_pem(k3), c3, c0, at=datetime(2026, 12, 1, tzinfo=UTC))
    if r30["alg"] != "RS256":
        raise AssertionError("RSA renewal not RS256")
    rsa_ctx = {"pinned": fp3, "presented": fp[0]}
    c.add("rs256-link", "an RSA certificate (3) renewed to cert 0 (RS256)", reached(0),
          renewals=[r30], context=rsa_ctx)  # fmt: skip
    c.add("rs256-tampered", "the RS256 renewal's new_cert swapped for cert 2 and its "
          "fingerprint", "no_chain", renewals=[broken(r30, lambda r: r["renewal"].update(
              new_cert=c2.decode(), new_fingerprint=fp[2]))],
          context={"pinned": fp3, "presented": fp[2]})  # fmt: skip
    c.add("rs256-as-es256", "alg ES256 over the RSA certificate's key", "no_chain",
          renewals=[broken(r30, lambda r: r.update(alg="ES256"))], context=rsa_ctx)  # fmt: skip
    return {
        "description": (
            "TLS certificate renewals of a C/S Sec. server (core.certs.follow_renewals): "
            "whether a chain leads from the pinned fingerprint to the presented one. "
            "The ES256 signature here is RFC 6979 deterministic; cssec's own are randomised."
        ),
        "certificates": {"0": c0.decode(), "1": c1.decode(), "2": c2.decode(), "3": c3.decode()},
        "fingerprints": {"0": fp[0], "1": fp[1], "2": fp[2], "3": fp3},
        "cases": c.items,
    }


# --- install_tokens.json ----------------------------------------------------------------


def install_tokens_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("install_tokens", keys)
    secret = base64.urlsafe_b64encode(_seed("install-token")[:24]).decode().rstrip("=")
    hexfp = hashlib.sha256(b"a server certificate").hexdigest()
    token = join_install_token(secret, "sha256:" + hexfp)

    def split(sec: str, fp: str | None) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["secret"] == sec and v["fingerprint"] == fp

    c.add("with-fingerprint", "secret and certificate fingerprint",
          split(secret, "sha256:" + hexfp), input=token)  # fmt: skip
    c.add("secret-only", "a server on plain HTTP", split(secret, None), input=secret)
    c.add("surrounding-space", "copied with a line break", split(secret, "sha256:" + hexfp),
          input=f"  {token}\n")  # fmt: skip
    c.add("upper-case-hex", "fingerprint in upper case", split(secret, "sha256:" + hexfp),
          input=f"{secret}.{hexfp.upper()}")  # fmt: skip
    c.add("colon-hex", "fingerprint with colons", split(secret, "sha256:" + hexfp),
          input=secret + "." + ":".join(hexfp[i : i + 2] for i in range(0, 64, 2)))  # fmt: skip
    c.add("suffix-not-fingerprint", "a suffix that is not 64 hex stays part of the secret",
          split(f"{secret}.abc", None), input=f"{secret}.abc")  # fmt: skip
    return {
        "description": (
            "Install tokens <secret>.<64 hex> (core.install_tokens.split_install_token): "
            "expect.secret, expect.fingerprint (sha256:<hex> or null), and "
            "expect.secret_sha256, what the server stores and compares."
        ),
        "cases": c.items,
    }


# --- bundles.json -----------------------------------------------------------------------


def bundles_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("bundles", keys)
    cs, dcs = _sample_codes()
    timestamp_json = b'{"signed":{"_type":"timestamp","version":7}}'

    def bundle(label: str = "vendor-1", **changes: Any) -> str:
        statement = {
            "v": 1,
            "kind": "component_bundle",
            "codes": sorted(hashlib.sha256(x.encode()).hexdigest() for x in (cs, dcs)),
            "contract_end": "2027-12-31",
            "grace_end": "2028-01-30",
            "issued_at": "2026-12-06T12:00:00Z",
            "serial": 12,
            "timestamp_version": 7,
            "timestamp_sha256": hashlib.sha256(timestamp_json).hexdigest(),
            **changes,
        }
        from cssec.core.signing import canonical_json  # noqa: PLC0415

        return canonical_json(sign_statement(statement, ED[label])).decode()

    ctx = {"pinned": [kid("vendor-1")], "server_codes": [cs], "now": "2026-12-07T12:00:00Z"}
    ts = _b64(timestamp_json)
    c.add("valid", "made yesterday for this site", None, bundle_json=bundle(),
          timestamp_json_b64=ts, context=ctx)  # fmt: skip
    c.add("valid-29-days", "made 30 days ago to the second", None,
          bundle_json=bundle(issued_at="2026-11-07T12:00:00Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("too-old", "made 30 days and 1 second ago", "bundle_too_old",
          bundle_json=bundle(issued_at="2026-11-07T11:59:59Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("future-within-skew", "10 minutes ahead", None,
          bundle_json=bundle(issued_at="2026-12-07T12:10:00Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("future", "10 minutes and 1 second ahead", "bad_bundle",
          bundle_json=bundle(issued_at="2026-12-07T12:10:01Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("other-site", "for another contract's codes", "other_site",
          bundle_json=bundle(), timestamp_json_b64=ts,
          context={**ctx, "server_codes": [raw_activation_code(serial=1)]})  # fmt: skip
    c.add("wrong-timestamp", "timestamp.json is not the one bundle.json names", "bad_bundle",
          bundle_json=bundle(), timestamp_json_b64=_b64(timestamp_json + b" "),
          context=ctx)  # fmt: skip
    c.add("forged", "signed by a key the server does not trust", "bad_bundle",
          bundle_json=bundle("outsider"), timestamp_json_b64=ts, context=ctx)  # fmt: skip
    c.add("wrong-kind", "a signed statement of another kind", "bad_bundle",
          bundle_json=bundle(kind="activeupdate_manifest"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("naive-issued-at", "issued_at without a time zone", "bad_bundle",
          bundle_json=bundle(issued_at="2026-12-06T12:00:00"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    return {
        "description": (
            "bundle.json of a component bundle (server.updates.bundle.check_statement, step 3 "
            "of an import): context.server_codes are the canonical codes of the server's "
            "slots; context.now the server's clock. The TUF metadata that follows is checked "
            "by the TUF specification and is not part of these vectors."
        ),
        "cases": c.items,
    }


# --- manifests.json ---------------------------------------------------------------------


def manifests_file(keys: dict[str, Any]) -> dict[str, Any]:
    from cssec.core.components import ComponentVersion, Manifest  # noqa: PLC0415
    from cssec.core.policy import Component  # noqa: PLC0415

    c = Cases("manifests", keys)
    published = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    manifest = Manifest(
        serial=12,
        issued_at=NOW,
        components={
            comp: ComponentVersion(
                comp, i + 3, hashlib.sha256(comp.value.encode()).hexdigest(), 1000 + i, published
            )
            for i, comp in enumerate(Component)
        },
    )
    base = manifest.to_statement()
    ctx = {"keys": [kid("vendor-1")]}

    def signed(change: Callable[[dict[str, Any]], None] | None = None, label: str = "vendor-1"
               ) -> dict[str, Any]:  # fmt: skip
        statement = copy.deepcopy(base)
        if change is not None:
            change(statement)
        return sign_statement(statement, ED[label])

    def entry(name: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
        return lambda st: st["components"][name].update(fields)

    def drop(name: str, field: str) -> Callable[[dict[str, Any]], None]:
        return lambda st: st["components"][name].pop(field)

    def fails(reason: str, detail: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["reason"] == reason and v["detail"] == detail

    c.add("valid", "the four components, signed", None, envelope=signed(), context=ctx)
    c.add("valid-unknown-fields", "an unknown field and an unknown component are ignored",
          None, envelope=signed(lambda st: st.update(note="x") or st["components"].update(
              extra_component={"version": 1})), context=ctx)  # fmt: skip
    c.add("forged", "signed by a key not held", fails("unknown_kid", "signature"),
          envelope=signed(label="outsider"), context=ctx)  # fmt: skip
    tampered = signed()
    tampered["statement"]["components"]["virus_pattern"]["sha256"] = "0" * 64
    c.add("tampered-sha256", "a file's hash replaced after signing",
          fails("bad_signature", "signature"), envelope=tampered, context=ctx)  # fmt: skip
    c.add("version-2", "v 2", fails("unsupported_format", "v"),
          envelope=signed(lambda st: st.update(v=2)), context=ctx)  # fmt: skip
    c.add("version-true", "v true is not the integer 1", fails("unsupported_format", "v"),
          envelope=signed(lambda st: st.update(v=True)), context=ctx)  # fmt: skip
    c.add("wrong-kind", "a status statement's kind", fails("wrong_kind", "kind"),
          envelope=signed(lambda st: st.update(kind="status")), context=ctx)  # fmt: skip
    c.add("serial-missing", "no serial", fails("missing_field", "serial"),
          envelope=signed(lambda st: st.pop("serial")), context=ctx)  # fmt: skip
    c.add("serial-negative", "serial -1", fails("bad_field", "serial"),
          envelope=signed(lambda st: st.update(serial=-1)), context=ctx)  # fmt: skip
    c.add("issued-at-naive", "issued_at without an offset", fails("bad_field", "issued_at"),
          envelope=signed(lambda st: st.update(issued_at="2026-12-07T12:00:00")),
          context=ctx)  # fmt: skip
    c.add("components-not-object", "components is a list", fails("bad_field", "components"),
          envelope=signed(lambda st: st.update(components=[])), context=ctx)  # fmt: skip
    c.add("component-missing", "no spyware_pattern",
          fails("missing_component", "components.spyware_pattern"),
          envelope=signed(lambda st: st["components"].pop("spyware_pattern")),
          context=ctx)  # fmt: skip
    c.add("sha256-upper-case", "sha256 in upper case",
          fails("bad_field", "components.virus_pattern.sha256"),
          envelope=signed(entry("virus_pattern", sha256="A" * 64)), context=ctx)  # fmt: skip
    c.add("sha256-missing", "an entry without sha256",
          fails("missing_field", "components.scan_engine.sha256"),
          envelope=signed(drop("scan_engine", "sha256")), context=ctx)  # fmt: skip
    c.add("version-zero", "component version 0",
          fails("bad_field", "components.damage_cleanup_template.version"),
          envelope=signed(entry("damage_cleanup_template", version=0)), context=ctx)  # fmt: skip
    c.add("size-too-large", "a 256 MiB + 1 file",
          fails("bad_field", "components.virus_pattern.size"),
          envelope=signed(entry("virus_pattern", size=268435457)), context=ctx)  # fmt: skip
    c.add("size-boolean", "size true", fails("bad_field", "components.virus_pattern.size"),
          envelope=signed(entry("virus_pattern", size=True)), context=ctx)  # fmt: skip
    c.add("published-at-missing", "an entry without published_at",
          fails("missing_field", "components.scan_engine.published_at"),
          envelope=signed(drop("scan_engine", "published_at")), context=ctx)  # fmt: skip
    c.add("first-bad-field-wins", "two bad fields: the first in the documented order",
          fails("bad_field", "components.virus_pattern.sha256"),
          envelope=signed(lambda st: st["components"]["virus_pattern"].update(
              sha256="x", version=0)), context=ctx)  # fmt: skip
    return {
        "description": (
            "ActiveUpdate manifests (core.components.verify_manifest): the envelope, then the "
            "schema; expect.detail names the field (signature for an envelope refusal)."
        ),
        "cases": c.items,
    }


# --- webhooks.json ----------------------------------------------------------------------


def webhooks_file(keys: dict[str, Any]) -> dict[str, Any]:
    from cssec.vendor_service.services.webhooks import signed_headers  # noqa: PLC0415

    c = Cases("webhooks", keys)
    secret = "whsec_" + _b64(_seed("webhook")[:32])
    other = "whsec_" + _b64(_seed("webhook/other")[:32])
    body = json.dumps(
        {"type": "contract.renewed", "timestamp": "2026-12-07T12:00:00Z",
         "data": {"contract_id": 1001, "ends_on": "2028-12-31", "customer": "株式会社テスト"}},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True,
    )  # fmt: skip
    msg_id = "msg_" + _seed("webhook-id")[:16].hex()
    headers = signed_headers(secret, msg_id, body, NOW)
    now = int(NOW.timestamp())
    ctx = {"secret": secret, "now": now}
    c.add("valid", "as the vendor posts it", None, headers=headers, body=body, context=ctx)
    c.add("valid-at-tolerance", "received 300 s later", None, headers=headers, body=body,
          context={**ctx, "now": now + 300})  # fmt: skip
    c.add("stale", "received 301 s later (a replay)", "timestamp_too_old", headers=headers,
          body=body, context={**ctx, "now": now + 301})  # fmt: skip
    c.add("future", "timestamp 301 s ahead of the receiver's clock", "timestamp_too_new",
          headers=headers, body=body, context={**ctx, "now": now - 301})  # fmt: skip
    c.add("wrong-secret", "verified with another endpoint's secret", "no_matching_signature",
          headers=headers, body=body, context={**ctx, "secret": other})  # fmt: skip
    c.add("tampered-body", "one character of the body changed", "no_matching_signature",
          headers=headers, body=body.replace("2028", "2029"), context=ctx)  # fmt: skip
    c.add("other-id", "the webhook-id of another message", "no_matching_signature",
          headers={**headers, "webhook-id": msg_id[:-1] + "X"}, body=body, context=ctx)  # fmt: skip
    c.add("moved-timestamp", "timestamp moved by one second, signature kept",
          "no_matching_signature",
          headers={**headers, "webhook-timestamp": str(now + 1)}, body=body, context=ctx)  # fmt: skip
    rotated = signed_headers(other, msg_id, body, NOW)["webhook-signature"]
    c.add("several-signatures", "two signatures, one under this secret", None,
          headers={**headers, "webhook-signature": f"{rotated} {headers['webhook-signature']}"},
          body=body, context=ctx)  # fmt: skip
    c.add("v2-prefix", "the same MAC under an unknown version prefix",
          "no_matching_signature",
          headers={**headers, "webhook-signature": "v2" + headers["webhook-signature"][2:]},
          body=body, context=ctx)  # fmt: skip
    c.add("missing-signature", "no webhook-signature header", "missing_header",
          headers={k: v for k, v in headers.items() if k != "webhook-signature"}, body=body,
          context=ctx)  # fmt: skip
    c.add("timestamp-not-integer", "a timestamp with a fraction", "invalid_timestamp",
          headers={**headers, "webhook-timestamp": f"{now}.0"}, body=body, context=ctx)  # fmt: skip
    c.add("header-case", "header names in another case", None,
          headers={k.title(): v for k, v in headers.items()}, body=body, context=ctx)  # fmt: skip
    return {
        "description": (
            "Outgoing webhooks (Standard Webhooks; vendor_service.services.webhooks): "
            "context.secret is the endpoint's whsec_ secret, context.now the receiver's "
            "clock (Unix seconds). body is the exact request body (UTF-8)."
        ),
        "cases": c.items,
    }


# --- main -------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "codes": codes_file,
    "canonical_json": canonical_file,
    "envelopes": envelopes_file,
    "status_statements": status_file,
    "endorsements": endorsements_file,
    "license_requests": requests_file,
    "license_responses": responses_file,
    "cert_renewals": cert_renewals_file,
    "install_tokens": install_tokens_file,
    "bundles": bundles_file,
    "manifests": manifests_file,
    "webhooks": webhooks_file,
}


def dump(data: Any) -> str:
    """How a vector file is written: ASCII only (every invisible character escaped)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def build() -> dict[str, str]:
    """File name → text, for every vector file."""
    keys = keys_file()
    out = {"keys.json": dump(keys)}
    for stem, builder in BUILDERS.items():
        body = builder(keys)
        body["format"] = FORMAT
        out[f"{stem}.json"] = dump(body)
    return out


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [n for n, t in files.items() if (HERE / n).read_text("utf-8") != t]
        for name in stale:
            print(f"{name} differs from the implementation", file=sys.stderr)
        return 1 if stale else 0
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
    cases = sum(len(json.loads(t).get("cases", [])) for t in files.values())
    print(f"wrote {len(files)} files, {cases} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
