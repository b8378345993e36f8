"""Registration keys and activation codes: layout, forgiving parsing, check character, MAC.

Both are strings of symbols from Crockford's base32 alphabet ``ALPHABET`` (no I, L, O, U,
so nothing reads as something else), read as one big-endian integer, 5 bits a symbol.

Activation code, 31 symbols, shown ``XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX``
(155 bits, most significant first)::

    prefix        10 bits  2 symbols "CS" (C/S Sec.) or "DC" (Damage Cleanup Services)
    version        4 bits  format version, 1
    version_type   2 bits  0 = full (製品版); 1..3 reserved
    seats         16 bits  1..65535
    expiry        16 bits  days since 2000-01-01 (last day 2179-06-06)
    serial        32 bits  vendor's serial, 0..2**32-1
    kid            6 bits  MAC key id, 0..63
    mac           64 bits  HMAC-SHA256, truncated
    check          5 bits  Damm check symbol over the 30 symbols before it

Registration key, 18 symbols, shown ``XX-XXXX-XXXX-XXXX-XXXX`` (90 bits)::

    version        4 bits  format version, 1
    kid            5 bits  MAC key id, 0..31
    serial        36 bits  contract key serial, 0..2**36-1
    mac           40 bits  HMAC-SHA256, truncated
    check          5 bits  Damm check symbol

The version comes first in each payload so a later layout can be told apart; the
activation code's prefix stays in front so people can see which product a code is for.

The MAC input is a domain tag (``cssec-ac1`` / ``cssec-rk1``, so a MAC of one kind never
verifies as the other) followed by every bit before the MAC as a big-endian integer:
11 bytes for an activation code (prefix through kid), 6 bytes for a registration key.
A registration key gets only 40 MAC bits (forgery odds 2^-40 a guess) because only the
vendor checks it, online, where guesses can be rate-limited; an activation code gets 64
because it is presented for years.

The check symbol is Damm's algorithm over the quasigroup ``x∘y = 2·x XOR y`` in
GF(2^5) (modulus x^5+x^2+1). Because the quasigroup is totally anti-symmetric, it catches
every single-symbol substitution and every adjacent transposition, so a typo is reported as
a typo and never turns into a different valid-looking code.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final, Generic, Literal, TypeVar

from cssec.core.errors import (
    CssecError,
    InvalidActivationCode,
    InvalidRegistrationKey,
    WrongProduct,
)
from cssec.core.license import Product, VersionType, grace_end

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ACTIVATION_CODE_LENGTH: Final = 31
REGISTRATION_KEY_LENGTH: Final = 18
ACTIVATION_CODE_GROUPS: Final = (2, 4, 5, 5, 5, 5, 5)
REGISTRATION_KEY_GROUPS: Final = (2, 4, 4, 4, 4)
CODE_VERSION: Final = 1
EXPIRY_EPOCH: Final = date(2000, 1, 1)
MIN_SECRET_BYTES: Final = 32

Kind = Literal["activation_code", "registration_key"]
T = TypeVar("T")


# --- Damm over GF(32) -------------------------------------------------------------------

_GF_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive
_DAMM_A = 2  # any a outside {0, 1} makes x∘y = a·x ^ y totally anti-symmetric


def _gf_mul(x: int, y: int) -> int:
    product = 0
    while y:
        if y & 1:
            product ^= x
        y >>= 1
        x <<= 1
        if x & 0b100000:
            x ^= _GF_MODULUS
    return product


DAMM_TABLE: Final[tuple[int, ...]] = tuple(
    _gf_mul(_DAMM_A, x) ^ y for x in range(32) for y in range(32)
)
"""Flat 32x32 operation table: ``x∘y == DAMM_TABLE[32 * x + y]``."""

_DAMM_CHECK = tuple(DAMM_TABLE[32 * x : 32 * x + 32].index(0) for x in range(32))


def _damm_interim(symbols: list[int]) -> int:
    interim = 0
    for symbol in symbols:
        interim = DAMM_TABLE[32 * interim + symbol]
    return interim


def _damm_masks() -> tuple[int, ...]:
    """Bit masks that compute the Damm sum of a whole code with five popcounts.

    With this quasigroup the Damm sum is linear: for symbols d_j counted from the right it
    is XOR of a^j·d_j, and multiplying by a^j is a 5x5 bit matrix. Output bit b is then the
    parity of the code's integer under mask b, which keeps the hot path free of a per-symbol
    Python loop. Tests check it against the table.
    """
    masks = [0] * 5
    power = 1
    for j in range(ACTIVATION_CODE_LENGTH):
        for i in range(5):
            column = _gf_mul(power, 1 << i)
            for b in range(5):
                if column >> b & 1:
                    masks[b] |= 1 << (5 * j + i)
        power = _gf_mul(power, _DAMM_A)
    return tuple(masks)


_M0, _M1, _M2, _M3, _M4 = _damm_masks()


def _damm_ok(n: int) -> bool:
    return not (
        (n & _M0).bit_count() & 1
        or (n & _M1).bit_count() & 1
        or (n & _M2).bit_count() & 1
        or (n & _M3).bit_count() & 1
        or (n & _M4).bit_count() & 1
    )


# --- Character folding --------------------------------------------------------------------

_SKIP = -1
_BAD = -2
_FOLD = {"O": "0", "I": "1", "L": "1"}
# Dash forms an IME or a word processor produces where the user typed a hyphen, and
# invisible characters that copy and paste carry along.
_DROP = frozenset("-‐‑‒–—―−⁃ー﹘\u00ad\u200b\u200c\u200d\u2060\ufeff")


def _fold_char(ch: str) -> int:
    """Symbol value of one typed character, `_SKIP` for a separator, `_BAD` otherwise.

    NFKC is applied per character so every symbol traces back to a position the user can
    find; a character that NFKC expands into several (a ligature, "⑴") is refused rather
    than guessed at.
    """
    if ch in _DROP:
        return _SKIP
    norm = unicodedata.normalize("NFKC", ch)
    if norm in _DROP or norm.isspace():
        return _SKIP
    if len(norm) != 1 or not norm.isascii():
        return _BAD
    upper = norm.upper()
    upper = _FOLD.get(upper, upper)
    index = ALPHABET.find(upper)
    return index if index >= 0 else _BAD


_KNOWN = {
    ch: _fold_char(ch)
    for ch in [chr(c) for c in range(0x80)]
    + [chr(c) for c in range(0xFF01, 0xFF5F)]
    + list(_DROP)
    + ["\u3000", "\u00a0", "\uff70"]
}

# Fast path for plain ASCII input: one bytes.translate folds to canonical symbols, a
# second maps them to the digits int(..., 32) reads. "U" becomes "#", so after folding
# isalnum() holds exactly when every byte is a symbol.
_ASCII_FOLD = bytes(
    ord(ALPHABET[v]) if (v := _KNOWN[chr(c)]) >= 0 else (ord("#") if chr(c) in "Uu" else c)
    for c in range(128)
) + bytes(range(128, 256))
_ASCII_SEPARATORS = b" \t\n\r\x0b\x0c-"
_TO_INT_DIGITS = bytes.maketrans(ALPHABET.encode(), b"0123456789abcdefghijklmnopqrstuv")


def normalize(text: str) -> str:
    """The symbols of `text` in canonical form; characters that are not symbols stay in.

    Keeps refused characters (upper-cased) so `classify` counts them by length.
    """
    out = []
    for ch in text:
        value = _KNOWN.get(ch)
        if value is None:
            value = _fold_char(ch)
        if value >= 0:
            out.append(ALPHABET[value])
        elif value == _BAD:
            out.append(ch.upper())
    return "".join(out)


def classify(text: str) -> Kind | None:
    """Which kind of string the user most likely entered, by its symbol count."""
    length = len(normalize(text))
    if length == ACTIVATION_CODE_LENGTH:
        return "activation_code"
    if length == REGISTRATION_KEY_LENGTH:
        return "registration_key"
    return None


def format_symbols(text: str, groups: tuple[int, ...]) -> str:
    parts = []
    start = 0
    for size in groups:
        parts.append(text[start : start + size])
        start += size
    return "-".join(parts)


# --- Phrases for CodeCheck.detail -----------------------------------------------------------

_EMPTY = {"ja": "何も入力されていません", "en": "nothing was entered"}
_CHECK_FAILED = {
    "ja": "1文字の入力誤りか、隣り合う2文字の入れ替わりがあります",
    "en": "one character is mistyped or two are swapped",
}
_WRONG_KIND: dict[Kind, dict[str, str]] = {
    "activation_code": {
        "ja": "これはレジストレーションキーです。アクティベーションコード"
        " (XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX) を入力してください",
        "en": "this is a registration key; enter the activation code"
        " (XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)",
    },
    "registration_key": {
        "ja": "これはアクティベーションコードです。"
        "使用許諾契約書に記載のレジストレーションキーを入力してください",
        "en": "this is an activation code; enter the registration key from the license agreement",
    },
}
_UNKNOWN_VERSION_TYPE = {"ja": "製品種別が不明です", "en": "the version type is unknown"}
_NO_SEATS = {"ja": "ライセンス数が 0 です", "en": "the seat count is 0"}
_MAC_FAILED = {"ja": "発行されたコードと一致しません", "en": "it matches no issued code"}


def _bad_character(position: int, ch: str) -> dict[str, str]:
    shown = ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
    return {
        "ja": f"{position}文字目の文字「{shown}」は使えません",
        "en": f"character {position}, '{shown}', cannot be used",
    }


def _wrong_length(expected: int, got: int) -> dict[str, str]:
    return {
        "ja": f"英数字{expected}文字のところ{got}文字です (ハイフンと空白は数えません)",
        "en": f"expected {expected} letters and digits, got {got} (not counting hyphens, spaces)",
    }


def _unsupported_version(version: int) -> dict[str, str]:
    return {
        "ja": f"形式のバージョン {version} には対応していません。ソフトウェアを更新してください",
        "en": f"format version {version} is not supported; update the software",
    }


def _unknown_prefix(prefix: str) -> dict[str, str]:
    return {
        "ja": f"先頭の「{prefix}」は製品を表す記号ではありません (CS または DC)",
        "en": f"the prefix '{prefix}' names no product (expected CS or DC)",
    }


def _wrong_product(*, expected: Product, actual: Product) -> dict[str, str]:
    return {
        "ja": f"{actual.name_in('ja')} 用のコードです ({expected.name_in('ja')} 用ではありません)",
        "en": f"this code is for {actual.name_in('en')}, not {expected.name_in('en')}",
    }


# --- Values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MacKey:
    kid: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"MAC secret must be at least {MIN_SECRET_BYTES} bytes")
        if not 0 <= self.kid < 64:
            raise ValueError("kid must be in 0..63")


@dataclass(frozen=True)
class ActivationCode:
    product: Product
    version: int
    version_type: VersionType
    seats: int
    expires_on: date
    serial: int
    kid: int
    mac: bytes
    text: str
    # The decoded integer, kept by the parser so the MAC check need not re-pack the
    # fields; 0 (unknown) for codes built any other way, including dataclasses.replace.
    _bits: int = field(default=0, init=False, repr=False, compare=False)

    @property
    def formatted(self) -> str:
        return format_symbols(self.text, ACTIVATION_CODE_GROUPS)


@dataclass(frozen=True)
class RegistrationKey:
    version: int
    kid: int
    serial: int
    mac: bytes
    text: str

    @property
    def formatted(self) -> str:
        return format_symbols(self.text, REGISTRATION_KEY_GROUPS)


class CodeError(StrEnum):
    EMPTY = "empty"
    WRONG_LENGTH = "wrong_length"
    BAD_CHARACTER = "bad_character"
    CHECK_FAILED = "check_failed"
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_PRODUCT = "wrong_product"
    MAC_FAILED = "mac_failed"
    WRONG_KIND = "wrong_kind"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class CodeCheck(Generic[T]):
    """Outcome of checking user input: the decoded value, or the first thing wrong with it.

    `value` is also set for WRONG_PRODUCT and MAC_FAILED, where the code itself decoded
    fine. `position` is 1-based in the text as typed, for BAD_CHARACTER (and the product
    prefix); `detail` is a short ja/en phrase (empty when ok). `kind` picks the error class
    `to_error` builds, since `value` is None for most errors; `expected_product` is what
    the caller asked for, for WrongProduct.
    """

    value: T | None
    error: CodeError | None
    position: int | None
    detail: dict[str, str]
    kind: Kind = "activation_code"
    expected_product: Product | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_error(self) -> CssecError:
        if self.error is None:
            raise ValueError("to_error() called on a code that checked out")
        fields: dict[str, Any] = {
            "detail_ja": self.detail["ja"],
            "detail_en": self.detail["en"],
            "reason": self.error.value,
            "position": self.position,
        }
        if self.error is CodeError.WRONG_PRODUCT and isinstance(self.value, ActivationCode):
            assert self.expected_product is not None
            return WrongProduct(
                expected=self.expected_product.value, actual=self.value.product.value, **fields
            )
        if self.kind == "registration_key":
            return InvalidRegistrationKey(**fields)
        return InvalidActivationCode(**fields)


_object_new = object.__new__


def _new(cls: type[T], attrs: dict[str, Any]) -> T:
    """Build a frozen dataclass without its generated __init__.

    That __init__ pays one object.__setattr__ per field, over a third of what a parse costs;
    the parser has already decoded and range-checked every field, so it fills __dict__.
    """
    obj = _object_new(cls)
    obj.__dict__.update(attrs)
    return obj


def _failed(
    kind: Kind,
    error: CodeError,
    detail: dict[str, str],
    *,
    position: int | None = None,
    value: Any = None,
    expected: Product | None = None,
) -> CodeCheck[Any]:
    return CodeCheck(value, error, position, dict(detail), kind, expected)


# --- Activation codes -----------------------------------------------------------------------

_AC_DOMAIN = b"cssec-ac1"
_RK_DOMAIN = b"cssec-rk1"
_PREFIXES = {Product.CS: "CS", Product.DCS: "DC"}
_PREFIX_VALUE = {
    p: ALPHABET.index(s[0]) << 5 | ALPHABET.index(s[1]) for p, s in _PREFIXES.items()
}
_PRODUCT_BY_PREFIX = {v: p for p, v in _PREFIX_VALUE.items()}
_VERSION_TYPES = {VersionType.FULL: 0}
_VERSION_TYPE_BY_VALUE = {v: t for t, v in _VERSION_TYPES.items()}
_VERSION_BITS = CODE_VERSION << 2 | _VERSION_TYPES[VersionType.FULL]
_EPOCH_ORDINAL = EXPIRY_EPOCH.toordinal()
# Issued codes share few expiry dates (contract ends); the 16-bit field bounds the cache.
_EXPIRY_DATES: dict[int, date] = {}
_MAX_EXPIRY = date.fromordinal(_EPOCH_ORDINAL + 0xFFFF)
_U64 = (1 << 64) - 1
_SHA256_BLOCK = 64
_U40 = (1 << 40) - 1


def _fold_ascii(text: str) -> bytes:
    """Canonical symbols of plain ASCII input in one C-level pass; b"" for anything else."""
    if not text.isascii():
        return b""
    return text.encode().translate(_ASCII_FOLD, _ASCII_SEPARATORS)


def _walk_symbols(
    text: str, kind: Kind, expected_length: int
) -> tuple[str, int] | CodeCheck[Any]:
    """Canonical symbols and their integer, or why the text is not `expected_length` symbols.

    The slow path for input `_fold_ascii` cannot take (full-width IME input, stray
    characters): it walks character by character to say where a bad one was typed.
    """
    values = []
    for position, ch in enumerate(text, 1):
        value = _KNOWN.get(ch)
        if value is None:
            value = _fold_char(ch)
        if value == _BAD:
            detail = _bad_character(position, ch)
            return _failed(kind, CodeError.BAD_CHARACTER, detail, position=position)
        if value >= 0:
            values.append(value)
    if not values:
        return _failed(kind, CodeError.EMPTY, _EMPTY)
    other_length = ACTIVATION_CODE_LENGTH + REGISTRATION_KEY_LENGTH - expected_length
    if len(values) == other_length:
        return _failed(kind, CodeError.WRONG_KIND, _WRONG_KIND[kind])
    if len(values) != expected_length:
        detail = _wrong_length(expected_length, len(values))
        return _failed(kind, CodeError.WRONG_LENGTH, detail)
    n = 0
    for value in values:
        n = n << 5 | value
    return "".join(ALPHABET[v] for v in values), n


def _first_symbol_position(text: str) -> int:
    """1-based position of the first symbol, where the product prefix starts as typed."""
    for position, ch in enumerate(text, 1):
        value = _KNOWN.get(ch)
        if (_fold_char(ch) if value is None else value) >= 0:
            return position
    return 1


def _activation_code_problem(text: str, canonical: str, n: int) -> CodeCheck[Any]:
    """Which check a decoded code failed, in the documented order."""
    kind: Kind = "activation_code"
    if not _damm_ok(n):
        return _failed(kind, CodeError.CHECK_FAILED, _CHECK_FAILED)
    version = n >> 141 & 0xF
    if version != CODE_VERSION:
        return _failed(kind, CodeError.UNSUPPORTED_VERSION, _unsupported_version(version))
    if n >> 145 not in _PRODUCT_BY_PREFIX:
        position = _first_symbol_position(text)
        detail = _unknown_prefix(canonical[:2])
        return _failed(kind, CodeError.OUT_OF_RANGE, detail, position=position)
    if n >> 139 & 3 not in _VERSION_TYPE_BY_VALUE:
        return _failed(kind, CodeError.OUT_OF_RANGE, _UNKNOWN_VERSION_TYPE)
    return _failed(kind, CodeError.OUT_OF_RANGE, _NO_SEATS)


def parse_activation_code(
    text: str, *, product: Product | None = None
) -> CodeCheck[ActivationCode]:
    """Decode an activation code as typed; never raises on what the user entered.

    Checks, in order: empty, bad character, length (a registration key is WRONG_KIND),
    check symbol, version, field ranges, then the expected `product`. The MAC is not
    checked: only the vendor holds the key (see `check_activation_code`). A well-formed
    ASCII code never leaves the first branch, which is what the vendor's throughput
    rests on; everything else is sorted out by the slower, position-tracking path.
    """
    raw = text.encode().translate(_ASCII_FOLD, _ASCII_SEPARATORS) if text.isascii() else b""
    if len(raw) == ACTIVATION_CODE_LENGTH and raw.isalnum():
        canonical = raw.decode()
        n = int(raw.translate(_TO_INT_DIGITS), 32)
    else:
        decoded = _walk_symbols(text, "activation_code", ACTIVATION_CODE_LENGTH)
        if isinstance(decoded, CodeCheck):
            return decoded
        canonical, n = decoded
    actual = _PRODUCT_BY_PREFIX.get(n >> 145)
    seats = n >> 123 & 0xFFFF
    if (
        actual is None
        or not seats
        or n >> 139 & 0x3F != _VERSION_BITS
        or (n & _M0).bit_count() & 1
        or (n & _M1).bit_count() & 1
        or (n & _M2).bit_count() & 1
        or (n & _M3).bit_count() & 1
        or (n & _M4).bit_count() & 1
    ):
        return _activation_code_problem(text, canonical, n)
    days = n >> 107 & 0xFFFF
    expires_on = _EXPIRY_DATES.get(days)
    if expires_on is None:
        expires_on = _EXPIRY_DATES[days] = date.fromordinal(_EPOCH_ORDINAL + days)
    # Filled in directly rather than through the generated __init__: see _new.
    code: ActivationCode = _object_new(ActivationCode)
    code.__dict__.update(
        {
            "product": actual,
            "version": CODE_VERSION,
            "version_type": VersionType.FULL,
            "seats": seats,
            "expires_on": expires_on,
            "serial": n >> 75 & 0xFFFFFFFF,
            "kid": n >> 69 & 0x3F,
            "mac": (n >> 5 & _U64).to_bytes(8, "big"),
            "text": canonical,
            "_bits": n,
        }
    )
    if product is not None and product != actual:
        detail = _wrong_product(expected=product, actual=actual)
        position = _first_symbol_position(text)
        return _failed(
            "activation_code",
            CodeError.WRONG_PRODUCT,
            detail,
            position=position,
            value=code,
            expected=product,
        )
    check: CodeCheck[ActivationCode] = _object_new(CodeCheck)
    check.__dict__.update(
        {
            "value": code,
            "error": None,
            "position": None,
            "detail": {},
            "kind": "activation_code",
            "expected_product": product,
        }
    )
    return check


def _ac_mac_input(code: ActivationCode) -> bytes:
    if code._bits:
        return _AC_DOMAIN + (code._bits >> 69).to_bytes(11, "big")
    data = _PREFIX_VALUE[code.product]
    data = data << 4 | code.version
    data = data << 2 | _VERSION_TYPES[code.version_type]
    data = data << 16 | code.seats
    data = data << 16 | (code.expires_on.toordinal() - _EPOCH_ORDINAL)
    data = data << 32 | code.serial
    data = data << 6 | code.kid
    return _AC_DOMAIN + data.to_bytes(11, "big")


@functools.lru_cache(maxsize=64)
def _hmac_sha256(secret: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 under `secret` with the padded key states hashed once (RFC 2104, 4).

    hmac.digest redoes that key schedule, and on OpenSSL 3 refetches SHA-256, on every
    call; that overhead is most of what verifying a code costs. The vendor holds these
    secrets in memory anyway; tests check the result against hmac.digest.
    """
    if len(secret) > _SHA256_BLOCK:
        secret = hashlib.sha256(secret).digest()
    block = secret.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(message: bytes) -> bytes:
        inner_hash = inner.copy()
        inner_hash.update(message)
        outer_hash = outer.copy()
        outer_hash.update(inner_hash.digest())
        return outer_hash.digest()

    return mac


def _truncated_mac(secret: bytes, message: bytes, size: int) -> bytes:
    return _hmac_sha256(secret)(message)[:size]


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in {low}..{high}, got {value!r}")


def encode_activation_code(
    *,
    product: Product,
    seats: int,
    expires_on: date,
    serial: int,
    key: MacKey,
    version_type: VersionType = VersionType.FULL,
) -> ActivationCode:
    """Issue an activation code; out-of-range fields are a caller bug, so they raise."""
    _check_range("seats", seats, 1, 0xFFFF)
    _check_range("serial", serial, 0, 0xFFFFFFFF)
    if not EXPIRY_EPOCH <= expires_on <= _MAX_EXPIRY:
        raise ValueError(f"expires_on must be in {EXPIRY_EPOCH}..{_MAX_EXPIRY}")
    unsigned = ActivationCode(
        Product(product), CODE_VERSION, VersionType(version_type), seats, expires_on,
        serial, key.kid, b"", "",
    )
    message = _ac_mac_input(unsigned)
    mac = _truncated_mac(key.secret, message, 8)
    n = int.from_bytes(message[len(_AC_DOMAIN) :] + mac, "big")
    return ActivationCode(
        unsigned.product, CODE_VERSION, unsigned.version_type, seats, expires_on,
        serial, key.kid, mac, _with_check(n, ACTIVATION_CODE_LENGTH - 1),
    )


def _with_check(n: int, length: int) -> str:
    symbols = [n >> 5 * (length - 1 - i) & 31 for i in range(length)]
    symbols.append(_DAMM_CHECK[_damm_interim(symbols)])
    return "".join(ALPHABET[s] for s in symbols)


def verify_activation_code_mac(code: ActivationCode, keys: Mapping[int, bytes]) -> bool:
    """Vendor-side check that the code was issued under one of `keys` (kid -> secret)."""
    secret = keys.get(code.kid)
    if secret is None:
        return False
    bits = code._bits
    message = _AC_DOMAIN + (bits >> 69).to_bytes(11, "big") if bits else _ac_mac_input(code)
    return hmac.compare_digest(_hmac_sha256(secret)(message)[:8], code.mac)


def check_activation_code(
    text: str, keys: Mapping[int, bytes], *, product: Product | None = None
) -> CodeCheck[ActivationCode]:
    """Parse, then verify the MAC: the vendor's full check, MAC_FAILED when forged."""
    check = parse_activation_code(text, product=product)
    if check.value is not None and not verify_activation_code_mac(check.value, keys):
        return _failed(
            "activation_code", CodeError.MAC_FAILED, _MAC_FAILED, value=check.value
        )
    return check


class Verdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"


def code_verdict(code: ActivationCode, *, today: date, grace_days: int) -> Verdict:
    """Expired is not invalid: a well-formed code past its grace period is still that code."""
    if today > grace_end(code.expires_on, grace_days):
        return Verdict.EXPIRED
    return Verdict.VALID


# --- Registration keys ----------------------------------------------------------------------


def parse_registration_key(text: str) -> CodeCheck[RegistrationKey]:
    """Decode a registration key as typed; same checks and order as activation codes."""
    kind: Kind = "registration_key"
    raw = _fold_ascii(text)
    if len(raw) == REGISTRATION_KEY_LENGTH and raw.isalnum():
        canonical = raw.decode()
        n = int(raw.translate(_TO_INT_DIGITS), 32)
    else:
        decoded = _walk_symbols(text, kind, REGISTRATION_KEY_LENGTH)
        if isinstance(decoded, CodeCheck):
            return decoded
        canonical, n = decoded
    if not _damm_ok(n):
        return _failed(kind, CodeError.CHECK_FAILED, _CHECK_FAILED)
    version = n >> 86
    if version != CODE_VERSION:
        return _failed(kind, CodeError.UNSUPPORTED_VERSION, _unsupported_version(version))
    key = _new(
        RegistrationKey,
        {
            "version": version,
            "kid": n >> 81 & 0x1F,
            "serial": n >> 45 & 0xFFFFFFFFF,
            "mac": (n >> 5 & _U40).to_bytes(5, "big"),
            "text": canonical,
        },
    )
    return CodeCheck(key, None, None, {}, kind)


def _rk_mac_input(key: RegistrationKey) -> bytes:
    data = (key.version << 5 | key.kid) << 36 | key.serial
    return _RK_DOMAIN + data.to_bytes(6, "big")


def encode_registration_key(*, serial: int, key: MacKey) -> RegistrationKey:
    """Issue a registration key; out-of-range fields are a caller bug, so they raise."""
    _check_range("serial", serial, 0, (1 << 36) - 1)
    _check_range("kid", key.kid, 0, 31)
    unsigned = RegistrationKey(CODE_VERSION, key.kid, serial, b"", "")
    message = _rk_mac_input(unsigned)
    mac = _truncated_mac(key.secret, message, 5)
    n = int.from_bytes(message[len(_RK_DOMAIN) :] + mac, "big")
    return RegistrationKey(
        CODE_VERSION, key.kid, serial, mac, _with_check(n, REGISTRATION_KEY_LENGTH - 1)
    )


def verify_registration_key_mac(key: RegistrationKey, keys: Mapping[int, bytes]) -> bool:
    """Vendor-side check that the key was issued under one of `keys` (kid -> secret)."""
    secret = keys.get(key.kid)
    if secret is None:
        return False
    return hmac.compare_digest(_truncated_mac(secret, _rk_mac_input(key), 5), key.mac)


def check_registration_key(text: str, keys: Mapping[int, bytes]) -> CodeCheck[RegistrationKey]:
    """Parse, then verify the MAC: the vendor's full check, MAC_FAILED when forged."""
    check = parse_registration_key(text)
    if check.value is not None and not verify_registration_key_mac(check.value, keys):
        return _failed(
            "registration_key", CodeError.MAC_FAILED, _MAC_FAILED, value=check.value
        )
    return check
