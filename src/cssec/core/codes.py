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

import hmac
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from cssec.core import _code_phrases as phrases
from cssec.core._code_values import (
    MIN_SECRET_BYTES,
    ActivationCode,
    BlankActivationCode,
    CodeCheck,
    CodeError,
    MacKey,
    RegistrationKey,
    Verdict,
    failed,
    new_ok_check,
)
from cssec.core._damm import DAMM_TABLE, M0, M1, M2, M3, M4
from cssec.core._damm import damm_interim as _damm_interim  # noqa: F401  (for the tests)
from cssec.core._damm import damm_ok as _damm_ok
from cssec.core._damm import with_check as _with_check
from cssec.core._mac import hmac_sha256
from cssec.core._mac import keyed_hmac_sha256 as _hmac_sha256  # noqa: F401  (for the tests)
from cssec.core._symbols import (
    ACTIVATION_CODE_GROUPS,
    ACTIVATION_CODE_LENGTH,
    ALPHABET,
    ASCII_FOLD,
    ASCII_SEPARATORS,
    REGISTRATION_KEY_GROUPS,
    REGISTRATION_KEY_LENGTH,
    TO_INT_DIGITS,
    BadCharacter,
    Kind,
    classify,
    first_symbol_position,
    fold_ascii,
    format_symbols,
    normalize,
    symbol_values,
)
from cssec.core.license import Product, VersionType, grace_end

__all__ = [
    "ACTIVATION_CODE_GROUPS",
    "ACTIVATION_CODE_LENGTH",
    "ALPHABET",
    "CODE_VERSION",
    "DAMM_TABLE",
    "EXPIRY_EPOCH",
    "MIN_SECRET_BYTES",
    "REGISTRATION_KEY_GROUPS",
    "REGISTRATION_KEY_LENGTH",
    "ActivationCode",
    "CodeCheck",
    "CodeError",
    "Kind",
    "MacKey",
    "RegistrationKey",
    "Verdict",
    "check_activation_code",
    "check_registration_key",
    "classify",
    "code_verdict",
    "encode_activation_code",
    "encode_registration_key",
    "format_symbols",
    "normalize",
    "parse_activation_code",
    "parse_registration_key",
    "verify_activation_code_mac",
    "verify_registration_key_mac",
]

CODE_VERSION: Final = 1
EXPIRY_EPOCH: Final = date(2000, 1, 1)

_AC_DOMAIN = b"cssec-ac1"
_RK_DOMAIN = b"cssec-rk1"
_PREFIXES = {Product.CS: "CS", Product.DCS: "DC"}
_PREFIX_VALUE = {p: ALPHABET.index(s[0]) << 5 | ALPHABET.index(s[1]) for p, s in _PREFIXES.items()}
_PRODUCT_BY_PREFIX = {v: p for p, v in _PREFIX_VALUE.items()}
_VERSION_TYPES = {VersionType.FULL: 0}
_VERSION_TYPE_BY_VALUE = {v: t for t, v in _VERSION_TYPES.items()}
_VERSION_BITS = CODE_VERSION << 2 | _VERSION_TYPES[VersionType.FULL]
# The 16 bits a code the parser accepts starts with (prefix, version, version type), so the
# hot path tests all three with one lookup.
_PRODUCT_BY_HEAD = {v << 6 | _VERSION_BITS: p for p, v in _PREFIX_VALUE.items()}
# Enum member lookup is an attribute descriptor call on Python 3.11; the parser reads this.
_FULL = VersionType.FULL
_EPOCH_ORDINAL = EXPIRY_EPOCH.toordinal()
_MAX_EXPIRY = date.fromordinal(_EPOCH_ORDINAL + 0xFFFF)
_U64 = (1 << 64) - 1
_U40 = (1 << 40) - 1
# Issued codes share few expiry dates (contract ends); the 16-bit field bounds the cache.
_EXPIRY_DATES: dict[int, date] = {}


def _expiry_date(days: int) -> date:
    expires_on = _EXPIRY_DATES[days] = date.fromordinal(_EPOCH_ORDINAL + days)
    return expires_on


def _decode_slowly(text: str, kind: Kind, expected_length: int) -> tuple[str, int] | CodeCheck[Any]:
    """Canonical symbols and their integer, or why the text is not `expected_length` symbols."""
    values = symbol_values(text)
    if isinstance(values, BadCharacter):
        detail = phrases.bad_character(values.position, values.char)
        return failed(kind, CodeError.BAD_CHARACTER, detail, position=values.position)
    if not values:
        return failed(kind, CodeError.EMPTY, phrases.EMPTY)
    other_length = ACTIVATION_CODE_LENGTH + REGISTRATION_KEY_LENGTH - expected_length
    if len(values) == other_length:
        return failed(kind, CodeError.WRONG_KIND, phrases.WRONG_KIND[kind])
    if len(values) != expected_length:
        detail = phrases.wrong_length(expected_length, len(values))
        return failed(kind, CodeError.WRONG_LENGTH, detail)
    n = 0
    for value in values:
        n = n << 5 | value
    return "".join(ALPHABET[v] for v in values), n


# --- Activation codes -----------------------------------------------------------------------


def _activation_code_problem(text: str, canonical: str, n: int) -> CodeCheck[Any]:
    """Which check a decoded code failed, in the documented order."""
    kind: Kind = "activation_code"
    if not _damm_ok(n):
        return failed(kind, CodeError.CHECK_FAILED, phrases.CHECK_FAILED)
    version = n >> 141 & 0xF
    if version != CODE_VERSION:
        return failed(kind, CodeError.UNSUPPORTED_VERSION, phrases.unsupported_version(version))
    if n >> 145 not in _PRODUCT_BY_PREFIX:
        detail = phrases.unknown_prefix(canonical[:2])
        position = first_symbol_position(text)
        return failed(kind, CodeError.OUT_OF_RANGE, detail, position=position)
    if n >> 139 & 3 not in _VERSION_TYPE_BY_VALUE:
        return failed(kind, CodeError.OUT_OF_RANGE, phrases.UNKNOWN_VERSION_TYPE)
    return failed(kind, CodeError.OUT_OF_RANGE, phrases.NO_SEATS)


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
    raw = text.encode().translate(ASCII_FOLD, ASCII_SEPARATORS) if text.isascii() else b""
    if len(raw) == ACTIVATION_CODE_LENGTH and raw.isalnum():
        canonical = raw.decode()
        n = int(raw.translate(TO_INT_DIGITS), 32)
    else:
        decoded = _decode_slowly(text, "activation_code", ACTIVATION_CODE_LENGTH)
        if isinstance(decoded, CodeCheck):
            return decoded
        canonical, n = decoded
    actual = _PRODUCT_BY_HEAD.get(n >> 139)
    seats = n >> 123 & 0xFFFF
    # Every field and the check symbol in one test (_damm_ok, inlined); the slow path
    # sorts out which one failed.
    if (
        actual is None
        or not seats
        or (
            (n & M0).bit_count()
            | (n & M1).bit_count()
            | (n & M2).bit_count()
            | (n & M3).bit_count()
            | (n & M4).bit_count()
        )
        & 1
    ):
        return _activation_code_problem(text, canonical, n)
    days = n >> 107 & 0xFFFF
    # Every field set on a blank that then becomes the dataclass: see BlankActivationCode.
    code: Any = BlankActivationCode()
    code.product = actual
    code.version = CODE_VERSION
    code.version_type = _FULL
    code.seats = seats
    code.expires_on = _EXPIRY_DATES.get(days) or _expiry_date(days)
    code.serial = n >> 75 & 0xFFFFFFFF
    code.kid = n >> 69 & 0x3F
    code.mac = (n >> 5 & _U64).to_bytes(8, "big")
    code.text = canonical
    code._bits = n
    code.__class__ = ActivationCode
    if product is not None and product != actual:
        return failed(
            "activation_code",
            CodeError.WRONG_PRODUCT,
            phrases.wrong_product(expected=product, actual=actual),
            position=first_symbol_position(text),
            value=code,
            expected=product,
        )
    return new_ok_check(code, "activation_code", product)


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
        Product(product),
        CODE_VERSION,
        VersionType(version_type),
        seats,
        expires_on,
        serial,
        key.kid,
        b"",
        "",
    )
    message = _ac_mac_input(unsigned)
    mac = hmac_sha256(key.secret, message)[:8]
    n = int.from_bytes(message[len(_AC_DOMAIN) :] + mac, "big")
    return ActivationCode(
        unsigned.product,
        CODE_VERSION,
        unsigned.version_type,
        seats,
        expires_on,
        serial,
        key.kid,
        mac,
        _with_check(n, ACTIVATION_CODE_LENGTH - 1),
    )


def verify_activation_code_mac(code: ActivationCode, keys: Mapping[int, bytes]) -> bool:
    """Vendor-side check that the code was issued under one of `keys` (kid -> secret)."""
    secret = keys.get(code.kid)
    if secret is None:
        return False
    bits = code._bits
    message = _AC_DOMAIN + (bits >> 69).to_bytes(11, "big") if bits else _ac_mac_input(code)
    return hmac.compare_digest(hmac_sha256(secret, message)[:8], code.mac)


def check_activation_code(
    text: str, keys: Mapping[int, bytes], *, product: Product | None = None
) -> CodeCheck[ActivationCode]:
    """Parse, then verify the MAC: the vendor's full check, MAC_FAILED when forged."""
    check = parse_activation_code(text, product=product)
    if check.value is not None and not verify_activation_code_mac(check.value, keys):
        return failed(
            "activation_code", CodeError.MAC_FAILED, phrases.MAC_FAILED, value=check.value
        )
    return check


def code_verdict(code: ActivationCode, *, today: date, grace_days: int) -> Verdict:
    """Expired is not invalid: a well-formed code past its grace period is still that code."""
    if today > grace_end(code.expires_on, grace_days):
        return Verdict.EXPIRED
    return Verdict.VALID


# --- Registration keys ----------------------------------------------------------------------


def parse_registration_key(text: str) -> CodeCheck[RegistrationKey]:
    """Decode a registration key as typed; same checks and order as activation codes."""
    kind: Kind = "registration_key"
    raw = fold_ascii(text)
    if len(raw) == REGISTRATION_KEY_LENGTH and raw.isalnum():
        canonical = raw.decode()
        n = int(raw.translate(TO_INT_DIGITS), 32)
    else:
        decoded = _decode_slowly(text, kind, REGISTRATION_KEY_LENGTH)
        if isinstance(decoded, CodeCheck):
            return decoded
        canonical, n = decoded
    if not _damm_ok(n):
        return failed(kind, CodeError.CHECK_FAILED, phrases.CHECK_FAILED)
    version = n >> 86
    if version != CODE_VERSION:
        return failed(kind, CodeError.UNSUPPORTED_VERSION, phrases.unsupported_version(version))
    key = RegistrationKey(
        version,
        n >> 81 & 0x1F,
        n >> 45 & 0xFFFFFFFFF,
        (n >> 5 & _U40).to_bytes(5, "big"),
        canonical,
    )
    return new_ok_check(key, kind, None)


def _rk_mac_input(key: RegistrationKey) -> bytes:
    data = (key.version << 5 | key.kid) << 36 | key.serial
    return _RK_DOMAIN + data.to_bytes(6, "big")


def encode_registration_key(*, serial: int, key: MacKey) -> RegistrationKey:
    """Issue a registration key; out-of-range fields are a caller bug, so they raise."""
    _check_range("serial", serial, 0, (1 << 36) - 1)
    _check_range("kid", key.kid, 0, 31)
    unsigned = RegistrationKey(CODE_VERSION, key.kid, serial, b"", "")
    message = _rk_mac_input(unsigned)
    mac = hmac_sha256(key.secret, message)[:5]
    n = int.from_bytes(message[len(_RK_DOMAIN) :] + mac, "big")
    return RegistrationKey(
        CODE_VERSION, key.kid, serial, mac, _with_check(n, REGISTRATION_KEY_LENGTH - 1)
    )


def verify_registration_key_mac(key: RegistrationKey, keys: Mapping[int, bytes]) -> bool:
    """Vendor-side check that the key was issued under one of `keys` (kid -> secret)."""
    secret = keys.get(key.kid)
    if secret is None:
        return False
    return hmac.compare_digest(hmac_sha256(secret, _rk_mac_input(key))[:5], key.mac)


def check_registration_key(text: str, keys: Mapping[int, bytes]) -> CodeCheck[RegistrationKey]:
    """Parse, then verify the MAC: the vendor's full check, MAC_FAILED when forged."""
    check = parse_registration_key(text)
    if check.value is not None and not verify_registration_key_mac(check.value, keys):
        return failed(
            "registration_key", CodeError.MAC_FAILED, phrases.MAC_FAILED, value=check.value
        )
    return check
