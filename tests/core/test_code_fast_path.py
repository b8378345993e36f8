"""The activation-code parser's fast path against a plain reference parser.

`parse_activation_code` decodes well-formed ASCII with two bytes.translate calls and int(),
tests the fields and the check symbol in one expression, and builds its values on blanks
that then become the dataclasses (see cssec.core._code_values). `reference_parse` below
does the same job the obvious way: the character-by-character decode, each documented
check in its turn, the table-driven Damm check, and the dataclasses' own __init__. The two
must agree on every valid code, however it is typed, and on every mutation of one.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.core import _code_phrases as phrases
from cssec.core import codes
from cssec.core._code_values import new_ok_check
from cssec.core._damm import damm_interim, with_check
from cssec.core._symbols import BadCharacter, first_symbol_position, symbol_values
from cssec.core.codes import (
    ALPHABET,
    EXPIRY_EPOCH,
    ActivationCode,
    CodeCheck,
    CodeError,
    MacKey,
    encode_activation_code,
    parse_activation_code,
)
from cssec.core.license import Product, VersionType

_TO_HEX = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")
_PRODUCTS = {"CS": Product.CS, "DC": Product.DCS}

activation_codes = st.builds(
    encode_activation_code,
    product=st.sampled_from(list(Product)),
    seats=st.integers(1, 0xFFFF),
    expires_on=st.dates(EXPIRY_EPOCH, EXPIRY_EPOCH + timedelta(days=0xFFFF)),
    serial=st.integers(0, 2**32 - 1),
    key=st.integers(0, 63).map(lambda kid: MacKey(kid, bytes([kid]) * 32)),
)
expected_products = st.sampled_from([None, *Product])


def _failed(
    error: CodeError, detail: dict[str, str], position: int | None = None
) -> CodeCheck[ActivationCode]:
    return CodeCheck(None, error, position, dict(detail), "activation_code")


def reference_parse(text: str, product: Product | None) -> CodeCheck[ActivationCode]:
    """`parse_activation_code` spelled out: one check after another, in the documented order."""
    values = symbol_values(text)
    if isinstance(values, BadCharacter):
        detail = phrases.bad_character(values.position, values.char)
        return _failed(CodeError.BAD_CHARACTER, detail, values.position)
    if not values:
        return _failed(CodeError.EMPTY, phrases.EMPTY)
    if len(values) == codes.REGISTRATION_KEY_LENGTH:
        return _failed(CodeError.WRONG_KIND, phrases.WRONG_KIND["activation_code"])
    if len(values) != codes.ACTIVATION_CODE_LENGTH:
        return _failed(CodeError.WRONG_LENGTH, phrases.wrong_length(31, len(values)))
    if damm_interim(values) != 0:
        return _failed(CodeError.CHECK_FAILED, phrases.CHECK_FAILED)
    symbols = "".join(ALPHABET[v] for v in values)
    n = int(symbols.translate(_TO_HEX), 32)
    version = n >> 141 & 0xF
    if version != codes.CODE_VERSION:
        return _failed(CodeError.UNSUPPORTED_VERSION, phrases.unsupported_version(version))
    actual = _PRODUCTS.get(symbols[:2])
    if actual is None:
        detail = phrases.unknown_prefix(symbols[:2])
        return _failed(CodeError.OUT_OF_RANGE, detail, first_symbol_position(text))
    if n >> 139 & 3 != 0:
        return _failed(CodeError.OUT_OF_RANGE, phrases.UNKNOWN_VERSION_TYPE)
    seats = n >> 123 & 0xFFFF
    if not seats:
        return _failed(CodeError.OUT_OF_RANGE, phrases.NO_SEATS)
    code = ActivationCode(
        actual,
        version,
        VersionType.FULL,
        seats,
        EXPIRY_EPOCH + timedelta(days=n >> 107 & 0xFFFF),
        n >> 75 & 0xFFFFFFFF,
        n >> 69 & 0x3F,
        (n >> 5 & 2**64 - 1).to_bytes(8, "big"),
        symbols,
    )
    object.__setattr__(code, "_bits", n)
    if product is not None and product != actual:
        detail = phrases.wrong_product(expected=product, actual=actual)
        position = first_symbol_position(text)
        return CodeCheck(
            code, CodeError.WRONG_PRODUCT, position, detail, "activation_code", product
        )
    return CodeCheck(code, None, None, {}, "activation_code", product)


def assert_same(got: CodeCheck[ActivationCode], want: CodeCheck[ActivationCode]) -> None:
    """Equal field for field, the MAC bits the verifier reads included, and of the same types."""
    assert type(got) is CodeCheck
    assert got == want
    assert repr(got) == repr(want)
    if want.value is not None:
        assert type(got.value) is ActivationCode
        assert got.value._bits == want.value._bits


@st.composite
def typed(draw: st.DrawFn, code: ActivationCode) -> str:
    """`code` as someone might type it in ASCII: any case, look-alikes, any separators."""
    out = [draw(st.sampled_from(["", " ", "\t"]))]
    for ch in draw(st.sampled_from([code.formatted, code.text])):
        if ch == "-":
            out.append(draw(st.sampled_from(["-", " ", "", " - ", "--"])))
            continue
        out.append(draw(st.sampled_from({"0": "0Oo", "1": "1IiLl"}.get(ch, ch + ch.lower()))))
    out.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(out)


def restamp(text: str, shift: int, width: int, value: int) -> str:
    """`text` with one field overwritten and a correct check symbol, as a forger would."""
    bits = int(text.translate(_TO_HEX), 32)
    bits = bits & ~(((1 << width) - 1) << shift) | value << shift
    return with_check(bits >> 5, 30)


# Anything a typo or a paste can put in: symbols, look-alikes, the refused U, separators,
# punctuation, and characters only the slow path takes (full-width, zero-width, ligature).
_STRAY = ALPHABET + "ILOUilou-# \t*_.０Ｚｰ—\u200b\u3000ﬀ"
_FIELDS = [(141, 4), (145, 10), (139, 2), (123, 16)]  # version, prefix, type, seats


@st.composite
def mutated(draw: st.DrawFn, code: ActivationCode) -> str:
    """One to three edits of `code`: substitute, insert, delete, swap, or restamp a field."""
    text = code.text
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["substitute", "insert", "delete", "swap", "restamp"]))
        i = draw(st.integers(0, max(len(text) - 1, 0)))
        if edit == "substitute" and text:
            text = text[:i] + draw(st.sampled_from(_STRAY)) + text[i + 1 :]
        elif edit == "insert":
            text = text[:i] + draw(st.sampled_from(_STRAY)) + text[i:]
        elif edit == "delete":
            text = text[:i] + text[i + 1 :]
        elif edit == "swap" and i + 1 < len(text):
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif edit == "restamp" and len(text) == 31 and set(text) <= set(ALPHABET):
            shift, width = draw(st.sampled_from(_FIELDS))
            text = restamp(text, shift, width, draw(st.integers(0, (1 << width) - 1)))
    return draw(
        st.sampled_from([text, text.lower(), codes.format_symbols(text, (2, 4) + (5,) * 5)])
    )


@given(activation_codes, st.data())
def test_fast_path_agrees_with_reference_on_valid_codes(
    code: ActivationCode, data: st.DataObject
) -> None:
    text = data.draw(typed(code))
    product = data.draw(expected_products)
    check = parse_activation_code(text, product=product)
    assert_same(check, reference_parse(text, product))
    assert check.value == code
    assert check.ok == (product in (None, code.product))


@given(activation_codes, st.data())
def test_fast_path_agrees_with_reference_on_mutations(
    code: ActivationCode, data: st.DataObject
) -> None:
    text = data.draw(mutated(code))
    product = data.draw(expected_products)
    assert_same(parse_activation_code(text, product=product), reference_parse(text, product))


@pytest.mark.parametrize(
    ("shift", "width", "value", "error"),
    [
        (141, 4, 2, CodeError.UNSUPPORTED_VERSION),
        (145, 10, 0, CodeError.OUT_OF_RANGE),
        (139, 2, 1, CodeError.OUT_OF_RANGE),
        (123, 16, 0, CodeError.OUT_OF_RANGE),
    ],
)
def test_every_field_check_is_reached(shift: int, width: int, value: int, error: CodeError) -> None:
    """The mutation strategy can produce each refusal the reference spells out."""
    text = restamp(
        encode_activation_code(
            product=Product.CS, seats=9, expires_on=EXPIRY_EPOCH, serial=1, key=MacKey(1, b"k" * 32)
        ).text,
        shift,
        width,
        value,
    )
    check = parse_activation_code(text)
    assert check.error is error
    assert_same(check, reference_parse(text, None))


def test_values_built_on_blanks_are_the_dataclasses() -> None:
    """What the parser builds without __init__ behaves like what __init__ builds."""
    issued = encode_activation_code(
        product=Product.DCS, seats=3, expires_on=EXPIRY_EPOCH, serial=7, key=MacKey(2, b"k" * 32)
    )
    check = parse_activation_code(issued.formatted)
    code = check.value
    assert code is not None
    assert type(code) is ActivationCode
    assert code == issued
    assert hash(code) == hash(issued)
    assert repr(code) == repr(issued)
    assert dataclasses.astuple(code)[:-1] == dataclasses.astuple(issued)[:-1]  # but _bits
    assert code.formatted == issued.formatted
    assert check == new_ok_check(issued, "activation_code", None)
    assert check == CodeCheck(issued, None, None, {}, "activation_code", None)
    for value, field in ((code, "seats"), (check, "value")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(value, field)
        assert not hasattr(value, "__dict__")
        assert pickle.loads(pickle.dumps(value)) == value
        assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(code))._bits == code._bits
    replaced = dataclasses.replace(code, seats=4)
    assert (replaced.seats, replaced._bits) == (4, 0)
