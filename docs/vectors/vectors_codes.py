# ruff: noqa: E501, PLR0915, PLC0415  (tables of cases, one per call; imports kept near their one use)
"""Vectors of §1 (codes.json) and §2 (canonical_json.json) of docs/protocol.md."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from vectors_common import (
    ALPHABET,
    HMAC,
    UNTRUSTED_HMAC,
    UNTRUSTED_HMAC_KID,
    Cases,
    raw_activation_code,
    raw_registration_key,
    seed,
)

from cssec.core import codes as codes_mod
from cssec.core._damm import with_check
from cssec.core.codes import MacKey, encode_activation_code, encode_registration_key
from cssec.core.license import Product


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
    from cssec.core._symbols import _DROP, _fold_char

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
        key=MacKey(63, seed("hmac/63")),
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
    forged = raw_activation_code(serial=424242, secret=seed("not-the-vendor"))
    c.add("ac-bad-mac", "well formed, MAC made with another secret",
          _fails(None, "mac_failed"), kind=ac, input=forged)  # fmt: skip
    tampered = raw_activation_code(seats=2500, secret=seed("recomputed-check-only"))
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
