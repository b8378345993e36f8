"""Registration keys and activation codes: format, typo detection, MAC, forgiving input."""

from __future__ import annotations

import dataclasses
import hmac
import random
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.core import codes
from cssec.core.codes import (
    ALPHABET,
    DAMM_TABLE,
    EXPIRY_EPOCH,
    ActivationCode,
    CodeError,
    MacKey,
    RegistrationKey,
    Verdict,
    check_activation_code,
    check_registration_key,
    classify,
    code_verdict,
    encode_activation_code,
    encode_registration_key,
    normalize,
    parse_activation_code,
    parse_registration_key,
    verify_activation_code_mac,
    verify_registration_key_mac,
)
from cssec.core.errors import InvalidActivationCode, InvalidRegistrationKey, WrongProduct
from cssec.core.license import Product

SECRETS = {kid: bytes([kid]) * 32 for kid in range(64)}
LAST_EXPIRY = EXPIRY_EPOCH + timedelta(days=0xFFFF)
_TO_HEX = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")


def key(kid: int = 1) -> MacKey:
    return MacKey(kid, SECRETS[kid])


def an_activation_code(product: Product = Product.CS, **fields: Any) -> ActivationCode:
    values: dict[str, Any] = {
        "seats": 50,
        "expires_on": date(2026, 3, 31),
        "serial": 1234,
        "key": key(),
    }
    values.update(fields)
    return encode_activation_code(product=product, **values)


def with_version(code_bits: int, length: int, version_shift: int, version: int) -> str:
    """Re-stamp the version field and recompute the check symbol, as a future format would."""
    bits = code_bits & ~(0xF << version_shift) | version << version_shift
    return codes._with_check(bits >> 5, length - 1)


activation_codes = st.builds(
    encode_activation_code,
    product=st.sampled_from(list(Product)),
    seats=st.integers(1, 0xFFFF),
    expires_on=st.dates(EXPIRY_EPOCH, LAST_EXPIRY),
    serial=st.integers(0, 2**32 - 1),
    key=st.integers(0, 63).map(key),
)
registration_keys = st.builds(
    encode_registration_key,
    serial=st.integers(0, 2**36 - 1),
    key=st.integers(0, 31).map(key),
)


# --- Format ---------------------------------------------------------------------------------


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_known_answer_vectors_pin_the_layout() -> None:
    code = an_activation_code(seats=100, expires_on=date(2027, 3, 31), serial=4242, key=key(5))
    assert code.formatted == "CS-200S-16VW0-0044J-2TM2V-FZB6V-6WNVK"
    bits = int(code.text.translate(_TO_HEX), 32)
    signed = b"cssec-ac1" + (bits >> 69).to_bytes(11, "big")
    mac = hmac.digest(SECRETS[5], signed, "sha256")[:8]
    assert mac == code.mac == (bits >> 5 & 2**64 - 1).to_bytes(8, "big")
    rkey = encode_registration_key(serial=123456789, key=key(5))
    assert rkey.formatted == "2A-03NQ-K8N4-Y263-Y86P"
    bits = int(rkey.text.translate(_TO_HEX), 32)
    signed = b"cssec-rk1" + (bits >> 45).to_bytes(6, "big")
    assert hmac.digest(SECRETS[5], signed, "sha256")[:5] == rkey.mac


def test_formatted_shapes() -> None:
    code = an_activation_code(Product.DCS)
    assert [len(g) for g in code.formatted.split("-")] == [2, 4, 5, 5, 5, 5, 5]
    assert code.text.startswith("DC")
    assert len(code.text) == 31
    rkey = encode_registration_key(serial=7, key=key())
    assert len(rkey.formatted) == 22
    assert [len(g) for g in rkey.formatted.split("-")] == [2, 4, 4, 4, 4]


def test_product_prefixes_are_readable() -> None:
    assert an_activation_code(Product.CS).text[:2] == "CS"
    assert an_activation_code(Product.DCS).text[:2] == "DC"


@given(activation_codes)
def test_activation_code_round_trip(code: ActivationCode) -> None:
    check = parse_activation_code(code.formatted, product=code.product)
    assert check.ok, check.detail
    assert check.value == code
    assert check.value.version == codes.CODE_VERSION
    assert verify_activation_code_mac(check.value, SECRETS)


@given(registration_keys)
def test_registration_key_round_trip(rkey: RegistrationKey) -> None:
    check = parse_registration_key(rkey.formatted)
    assert check.ok, check.detail
    assert check.value == rkey
    assert verify_registration_key_mac(check.value, SECRETS)


# --- Damm check symbol ----------------------------------------------------------------------


def table(x: int, y: int) -> int:
    return DAMM_TABLE[32 * x + y]


def test_damm_table_is_a_quasigroup() -> None:
    for x in range(32):
        assert sorted(table(x, y) for y in range(32)) == list(range(32))
        assert sorted(table(y, x) for y in range(32)) == list(range(32))


def test_damm_table_is_totally_anti_symmetric() -> None:
    for x in range(32):
        for y in range(32):
            if x != y:
                assert table(x, y) != table(y, x)
                for c in range(32):
                    assert table(table(c, x), y) != table(table(c, y), x)


_IDENTITY_TAIL = bytes(range(32, 256))
_COLUMNS = [bytes(table(s, d) for s in range(32)) for d in range(32)]
_ROWS = [bytes(table(s, d) for d in range(32)) for s in range(32)]


def assert_every_single_error_caught(symbols: list[int]) -> tuple[int, int]:
    """Damm sum of every substitution and adjacent transposition of `symbols`, via tables.

    finals[k] maps the interim state before position k to the final state, so each
    position's 31 substitutes are one bytes.translate, not 31 re-runs of the check.
    """
    length = len(symbols)
    before = [0]
    for d in symbols:
        before.append(table(before[-1], d))
    assert before[-1] == 0
    finals = [b""] * (length + 1)
    finals[length] = bytes(range(32))
    for k in range(length - 1, -1, -1):
        finals[k] = _COLUMNS[symbols[k]].translate(finals[k + 1] + _IDENTITY_TAIL)
    substitutions = transpositions = 0
    for k, d in enumerate(symbols):
        outcomes = _ROWS[before[k]].translate(finals[k + 1] + _IDENTITY_TAIL)
        assert outcomes[d] == 0
        assert outcomes.count(0) == 1, f"a substitution at {k} goes unnoticed"
        substitutions += 31
        if k + 1 < length and symbols[k + 1] != d:
            swapped = table(table(before[k], symbols[k + 1]), d)
            assert finals[k + 2][swapped] != 0, f"swapping {k} and {k + 1} goes unnoticed"
            transpositions += 1
    return substitutions, transpositions


def test_every_single_error_in_10000_codes_of_each_kind_is_caught() -> None:
    rng = random.Random(20240401)
    substitutions = transpositions = 0
    for _ in range(10_000):
        code = an_activation_code(
            rng.choice(list(Product)),
            seats=rng.randint(1, 0xFFFF),
            expires_on=EXPIRY_EPOCH + timedelta(days=rng.randrange(0x10000)),
            serial=rng.getrandbits(32),
            key=key(rng.randrange(64)),
        )
        rkey = encode_registration_key(serial=rng.getrandbits(36), key=key(rng.randrange(32)))
        for text in (code.text, rkey.text):
            subs, swaps = assert_every_single_error_caught([ALPHABET.index(c) for c in text])
            substitutions += subs
            transpositions += swaps
    assert substitutions == 10_000 * 31 * (31 + 18)
    assert transpositions > 10_000 * (30 + 17) * 0.9


@given(st.integers(0, 2**155 - 1))
def test_popcount_check_agrees_with_the_table(n: int) -> None:
    symbols = [n >> 5 * (30 - i) & 31 for i in range(31)]
    assert codes._damm_ok(n) == (codes._damm_interim(symbols) == 0)


def test_every_typo_is_reported_by_the_parser() -> None:
    for text, parse in (
        (an_activation_code(Product.DCS).text, parse_activation_code),
        (encode_registration_key(serial=99, key=key()).text, parse_registration_key),
    ):
        for i, original in enumerate(text):
            for symbol in ALPHABET.replace(original, ""):
                check = parse(text[:i] + symbol + text[i + 1 :])
                assert check.error is CodeError.CHECK_FAILED
            if i + 1 < len(text) and text[i] != text[i + 1]:
                swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
                assert parse(swapped).error is CodeError.CHECK_FAILED


@given(activation_codes, st.data())
def test_random_substitution_is_a_typo(code: ActivationCode, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, 30))
    symbol = data.draw(st.sampled_from(ALPHABET.replace(code.text[i], "")))
    check = parse_activation_code(code.text[:i] + symbol + code.text[i + 1 :])
    assert not check.ok
    assert check.error is CodeError.CHECK_FAILED
    assert "check character does not match" in check.detail["en"]
    assert "入力誤り" not in check.detail["ja"], (
        "without the MAC a typo cannot be told from a made-up code"
    )


# --- Forgiving input ------------------------------------------------------------------------

_SEPARATORS = ["", "-", " ", "\u3000", "ー", "－", "—", "–", "‐", " - ", "\t"]


@st.composite
def noisy(draw: st.DrawFn, formatted: str) -> str:
    out = [draw(st.sampled_from(["", " ", "\u3000"]))]
    for ch in formatted:
        if ch == "-":
            out.append(draw(st.sampled_from(_SEPARATORS)))
            continue
        variants = {"0": "0Oo", "1": "1IiLl"}.get(ch, ch + ch.lower())
        typed = draw(st.sampled_from(variants))
        if draw(st.booleans()):
            typed = chr(ord(typed) + 0xFEE0)  # the full-width form an IME produces
        out.append(typed)
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(_SEPARATORS)))
    out.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(out)


@given(st.data())
def test_noisy_activation_code_still_parses(data: st.DataObject) -> None:
    code = data.draw(activation_codes)
    check = parse_activation_code(data.draw(noisy(code.formatted)))
    assert check.value == code
    assert classify(code.formatted.lower()) == "activation_code"


@given(st.data())
def test_noisy_registration_key_still_parses(data: st.DataObject) -> None:
    rkey = data.draw(registration_keys)
    assert parse_registration_key(data.draw(noisy(rkey.formatted))).value == rkey


def test_normalize_folds_what_people_type() -> None:
    assert normalize("ｃｓ－ａｂｃ　ｄｅｆ") == "CSABCDEF"
    assert normalize("o0 I1 l1 - ー — – ‐") == "001111"
    assert normalize("ab\u200bcd") == "ABCD"
    assert normalize("ab#u") == "AB#U"  # refused characters stay in, so lengths stay honest


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    for check in (
        parse_activation_code(text, product=Product.CS),
        parse_registration_key(text),
        check_activation_code(text, SECRETS),
        check_registration_key(text, SECRETS),
    ):
        assert not check.ok or check.value is not None
        if not check.ok:
            assert set(check.detail) == {"ja", "en"}
            check.to_error()
    normalize(text)
    classify(text)


@given(st.text(alphabet=ALPHABET + "-oilu #", min_size=15, max_size=40))
def test_near_codes_never_raise(text: str) -> None:
    parse_activation_code(text, product=Product.DCS)
    parse_registration_key(text)


@given(st.text(alphabet=ALPHABET + "-oilU #\t", max_size=40))
def test_fast_path_agrees_with_slow_path(text: str) -> None:
    """A trailing zero-width space forces the character-by-character walk."""
    for parse in (parse_activation_code, parse_registration_key):
        fast, slow = parse(text), parse(text + "\u200b")
        assert (fast.value, fast.error, fast.position) == (slow.value, slow.error, slow.position)


# --- Errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "- -\u3000ー"])
def test_empty(text: str) -> None:
    check = parse_activation_code(text)
    assert check.error is CodeError.EMPTY
    assert parse_registration_key(text).error is CodeError.EMPTY


def test_wrong_length_says_expected_and_got() -> None:
    check = parse_activation_code(an_activation_code().formatted[:-3])
    assert check.error is CodeError.WRONG_LENGTH
    assert "expected 31" in check.detail["en"]
    assert "got 28" in check.detail["en"]
    assert "31文字" in check.detail["ja"]
    assert "28文字" in check.detail["ja"]


def test_bad_character_position_is_as_typed() -> None:
    text = an_activation_code().formatted
    typed = "  ｃｓ" + text[2:10] + "#" + text[11:]
    check = parse_activation_code(typed)
    assert check.error is CodeError.BAD_CHARACTER
    assert check.position == 13
    assert typed[check.position - 1] == "#"
    assert check.detail["ja"] == "13文字目の文字「#」は使えません"
    assert "character 13" in check.detail["en"]


def test_u_is_a_bad_character_not_a_guess() -> None:
    text = an_activation_code().formatted
    check = parse_activation_code(text[:5] + "u" + text[6:])
    assert (check.error, check.position) == (CodeError.BAD_CHARACTER, 6)
    assert "'u'" in check.detail["en"]


def test_invisible_bad_characters_are_named_by_code_point() -> None:
    check = parse_registration_key("2A-03NQ\x07")
    assert check.error is CodeError.BAD_CHARACTER
    assert "U+0007" in check.detail["en"]


def test_wrong_kind_both_ways() -> None:
    rkey = encode_registration_key(serial=5, key=key())
    code = an_activation_code()
    check = parse_activation_code(rkey.formatted)
    assert check.error is CodeError.WRONG_KIND
    assert "registration key" in check.detail["en"]
    assert parse_registration_key(code.formatted).error is CodeError.WRONG_KIND
    assert classify(rkey.formatted) == "registration_key"
    assert classify("CS-1234") is None


def test_unsupported_version() -> None:
    code = an_activation_code()
    text = with_version(int(code.text.translate(_TO_HEX), 32), 31, 141, 2)
    check = parse_activation_code(text)
    assert check.error is CodeError.UNSUPPORTED_VERSION
    assert "version 2" in check.detail["en"]
    rkey = encode_registration_key(serial=5, key=key())
    rtext = with_version(int(rkey.text.translate(_TO_HEX), 32), 18, 86, 0)
    assert parse_registration_key(rtext).error is CodeError.UNSUPPORTED_VERSION


def restamp(code: ActivationCode, shift: int, width: int, value: int) -> str:
    bits = int(code.text.translate(_TO_HEX), 32)
    bits = bits & ~(((1 << width) - 1) << shift) | value << shift
    return codes._with_check(bits >> 5, 30)


@pytest.mark.parametrize(
    ("shift", "width", "value", "phrase", "position"),
    [
        (145, 10, 0, "prefix '00'", 1),
        (139, 2, 3, "version type", None),
        (123, 16, 0, "seat count", None),
    ],
)
def test_out_of_range_fields(
    shift: int, width: int, value: int, phrase: str, position: int | None
) -> None:
    check = parse_activation_code(restamp(an_activation_code(), shift, width, value))
    assert check.error is CodeError.OUT_OF_RANGE
    assert phrase in check.detail["en"]
    assert check.position == position


def test_wrong_product_maps_to_wrong_product_error() -> None:
    code = an_activation_code(Product.DCS)
    check = parse_activation_code(" " + code.formatted, product=Product.CS)
    assert check.error is CodeError.WRONG_PRODUCT
    assert check.value == code
    assert check.position == 2
    error = check.to_error()
    assert isinstance(error, WrongProduct)
    assert error.fields["expected"] == "CS"
    assert error.fields["actual"] == "DCS"
    assert "Damage Cleanup Services" in check.detail["en"]


def test_to_error_carries_reason_position_and_details() -> None:
    check = parse_activation_code("CS-#")
    error = check.to_error()
    assert isinstance(error, InvalidActivationCode)
    assert error.fields["reason"] == "bad_character"
    assert error.fields["position"] == 4
    assert check.detail["ja"] in error.message("ja")
    assert check.detail["en"] in error.message("en")
    rerror = parse_registration_key("2A").to_error()
    assert isinstance(rerror, InvalidRegistrationKey)
    assert rerror.fields["reason"] == "wrong_length"


def test_to_error_on_a_good_code_is_a_bug() -> None:
    with pytest.raises(ValueError, match="checked out"):
        parse_activation_code(an_activation_code().formatted).to_error()


def test_detail_is_not_shared_between_checks() -> None:
    first = parse_activation_code("")
    first.detail["en"] = "changed"
    assert parse_activation_code("").detail["en"] == "nothing was entered"


# --- MAC ------------------------------------------------------------------------------------


def test_mac_needs_the_right_key_and_kid() -> None:
    code = an_activation_code(key=key(7))
    parsed = parse_activation_code(code.formatted).value
    assert parsed is not None
    for candidate in (code, parsed):
        assert verify_activation_code_mac(candidate, {7: SECRETS[7], 8: SECRETS[8]})
        assert not verify_activation_code_mac(candidate, {7: SECRETS[8]})
        assert not verify_activation_code_mac(candidate, {8: SECRETS[8]})
    rkey = encode_registration_key(serial=3, key=key(7))
    assert verify_registration_key_mac(rkey, {7: SECRETS[7]})
    assert not verify_registration_key_mac(rkey, {7: SECRETS[8]})


def test_mac_covers_every_field() -> None:
    """Also for parsed codes, whose cached bits dataclasses.replace must not carry over."""
    code = an_activation_code()
    parsed = parse_activation_code(code.formatted).value
    assert parsed is not None
    for change in (
        {"seats": 51},
        {"serial": 1235},
        {"expires_on": date(2027, 3, 31)},
        {"product": Product.DCS},
        {"kid": 2},
    ):
        for original in (code, parsed):
            forged = dataclasses.replace(original, **change)
            assert not verify_activation_code_mac(forged, {1: SECRETS[1], 2: SECRETS[1]})
    rkey = encode_registration_key(serial=3, key=key())
    assert not verify_registration_key_mac(dataclasses.replace(rkey, serial=4), SECRETS)


def test_forged_code_fails_the_vendor_check_only() -> None:
    code = an_activation_code(key=MacKey(1, b"x" * 32))
    assert parse_activation_code(code.formatted).ok
    check = check_activation_code(code.formatted, SECRETS)
    assert check.error is CodeError.MAC_FAILED
    assert check.to_error().fields["reason"] == "mac_failed"
    assert check_activation_code(an_activation_code().formatted, SECRETS).ok
    rkey = encode_registration_key(serial=1, key=MacKey(1, b"x" * 32))
    assert check_registration_key(rkey.formatted, SECRETS).error is CodeError.MAC_FAILED


@given(st.binary(min_size=32, max_size=200), st.binary(max_size=100))
def test_precomputed_hmac_is_hmac_sha256(secret: bytes, message: bytes) -> None:
    assert codes._hmac_sha256(secret)(message) == hmac.digest(secret, message, "sha256")


# --- Encoding misuse ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"seats": 0},
        {"seats": 0x10000},
        {"seats": True},
        {"serial": -1},
        {"serial": 2**32},
        {"expires_on": EXPIRY_EPOCH - timedelta(days=1)},
        {"expires_on": LAST_EXPIRY + timedelta(days=1)},
    ],
)
def test_encode_refuses_out_of_range_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        an_activation_code(**fields)


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=2**36)))
def test_encode_refuses_any_out_of_range_serial(serial: int) -> None:
    with pytest.raises(ValueError, match="serial"):
        encode_registration_key(serial=serial, key=key())
    with pytest.raises(ValueError, match="seats"):
        an_activation_code(seats=serial)


def test_mac_keys_refuse_short_secrets_and_wide_kids() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MacKey(1, b"short")
    with pytest.raises(ValueError, match="kid"):
        MacKey(64, SECRETS[1])
    with pytest.raises(ValueError, match="kid"):
        encode_registration_key(serial=1, key=key(32))


# --- Expiry ---------------------------------------------------------------------------------


def test_expired_is_a_verdict_not_an_error() -> None:
    code = an_activation_code(expires_on=date(2026, 3, 31))
    assert code_verdict(code, today=date(2026, 3, 31), grace_days=30) is Verdict.VALID
    assert code_verdict(code, today=date(2026, 4, 30), grace_days=30) is Verdict.VALID
    assert code_verdict(code, today=date(2026, 5, 1), grace_days=30) is Verdict.EXPIRED
    assert code_verdict(code, today=date(2026, 4, 1), grace_days=0) is Verdict.EXPIRED
    assert parse_activation_code(code.formatted).ok
