"""Registration keys and activation codes for a run of serials, at bulk-issuance speed.

`core.codes.encode_*` build and range-check a dataclass per code, about 10-17 µs each;
a million contracts would spend half a minute there. Here everything a batch shares is
done once (the fields other than the serial, the HMAC key schedule), and the base32
conversion and the check symbol run over a whole chunk as one big integer, which leaves
little more than the HMAC itself per code (about 1.5 µs).

The bit layouts, MAC inputs and check symbol are the ones `cssec.core.codes` documents;
`check_against_core` compares a code of every chunk with the core encoders, so a layout
change there can never silently produce codes that do not verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from cssec.core.codes import (
    ACTIVATION_CODE_LENGTH,
    ALPHABET,
    CODE_VERSION,
    DAMM_TABLE,
    EXPIRY_EPOCH,
    REGISTRATION_KEY_LENGTH,
    MacKey,
    encode_activation_code,
    encode_registration_key,
)
from cssec.core.license import Product

_AC_DOMAIN = b"cssec-ac1"
_RK_DOMAIN = b"cssec-rk1"
_VERSION_TYPE_FULL = 0
_RECORD_BYTES = 32
"""Each code is converted in a 256-bit record: 32 five-bit groups spread to 32 bytes."""
_SYMBOLS = bytes(ord(ALPHABET[v]) if v < 32 else ord("?") for v in range(256))
MAX_AC_SERIAL = 0xFFFFFFFF
MAX_RK_SERIAL = (1 << 36) - 1


def _gf_double(x: int) -> int:
    """a·x in the Damm quasigroup's field, read off the table (a·x ∘ 0 == table[32x])."""
    return DAMM_TABLE[32 * x]


def _hmac_states(secret: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) inner and outer hashes with the padded keys absorbed."""
    if len(secret) > 64:
        secret = hashlib.sha256(secret).digest()
    block = secret.ljust(64, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(
        bytes(b ^ 0x5C for b in block)
    )


def _repeat(pattern: int, count: int) -> int:
    return int.from_bytes(pattern.to_bytes(_RECORD_BYTES, "big") * count, "big")


@dataclass(frozen=True)
class _Masks:
    """Bit masks over `count` 256-bit records, one pattern repeated per record."""

    spread: tuple[tuple[int, int, int], ...]
    ones: int
    columns: tuple[int, ...]
    folds: tuple[tuple[int, int], ...]


@lru_cache(maxsize=4)
def _masks(count: int) -> _Masks:
    # Spreading: step k halves blocks of 256 >> k bits; the upper half of the groups
    # packed at the bottom of each block moves up to the middle of the block.
    spread = []
    block_bits, groups = 256, 32
    while groups > 1:
        half = 5 * groups // 2
        keep = move = 0
        for base in range(0, 256, block_bits):
            keep |= ((1 << half) - 1) << base
            move |= ((1 << half) - 1) << (base + half)
        spread.append((_repeat(keep, count), _repeat(move, count), block_bits // 2 - half))
        block_bits, groups = block_bits // 2, groups // 2
    # The Damm check: bit i of symbol j (counted from the right) adds a^j·2^i.
    columns = []
    for i in range(5):
        pattern, column = 0, 1 << i
        for j in range(32):
            pattern |= column << (8 * j)
            column = _gf_double(column)
        columns.append(_repeat(pattern, count))
    ones = _repeat(int.from_bytes(b"\1" * _RECORD_BYTES, "big"), count)
    folds = tuple((w, _repeat((1 << w) - 1, count)) for w in (128, 64, 32, 16, 8))
    return _Masks(tuple(spread), ones, tuple(columns), folds)


def _texts(records: list[bytes], length: int) -> list[str]:
    """Symbols of each 32-byte record shifted left 5 bits, with the Damm check symbol in
    the 5 bits that frees: the last `length` symbols of each, as text.

    All of it runs on one integer holding the whole chunk, so each step is a single C
    loop: shift, spread every 5-bit group into its own byte, compute every record's
    check symbol (it is linear: XOR over bytes of a^j·d_j), translate bytes to symbols.
    """
    count = len(records) // 3
    if not count:
        return []
    masks = _masks(count)
    big = int.from_bytes(b"".join(records), "big") << 5
    for keep, move, shift in masks.spread:
        big = (big & keep) | (big & move) << shift
    check = 0
    for i, column in enumerate(masks.columns):
        check ^= ((big >> i & masks.ones) * 0xFF) & column
    for width, low in masks.folds:
        check = (check ^ check >> width) & low
    text = (big | check).to_bytes(_RECORD_BYTES * count, "big").translate(_SYMBOLS).decode()
    skip = _RECORD_BYTES - length
    return [text[i + skip : i + _RECORD_BYTES] for i in range(0, len(text), _RECORD_BYTES)]


def prefix_value(code_prefix: str) -> int:
    """The 10-bit prefix field of a two-symbol product prefix ("CS", "DC")."""
    return ALPHABET.index(code_prefix[0]) << 5 | ALPHABET.index(code_prefix[1])


def activation_code_texts(
    serials: Sequence[int], *, code_prefix: str, seats: int, expires_on: date, key: MacKey
) -> list[str]:
    """Canonical activation codes (31 symbols) for `serials`, all with the same terms.

    The 86 bits before the MAC are 11 bytes; only the low 5 hold the serial, so the MAC
    input's first 15 bytes are absorbed once and each record is pad + 11 bytes + MAC.
    """
    days = expires_on.toordinal() - EXPIRY_EPOCH.toordinal()
    bits = prefix_value(code_prefix) << 4 | CODE_VERSION
    bits = ((bits << 2 | _VERSION_TYPE_FULL) << 16 | seats) << 16 | days
    bits = bits << 38 | key.kid
    head = (bits >> 40).to_bytes(6, "big")
    low = bits & (1 << 40) - 1
    inner, outer = _hmac_states(key.secret)
    inner.update(_AC_DOMAIN + head)
    inner_copy, outer_copy = inner.copy, outer.copy
    pad = bytes(_RECORD_BYTES - 19) + head
    records: list[bytes] = []
    append = records.append
    for serial in serials:
        tail = (low | serial << 6).to_bytes(5, "big")
        h = inner_copy()
        h.update(tail)
        o = outer_copy()
        o.update(h.digest())
        append(pad)
        append(tail)
        append(o.digest()[:8])
    return _texts(records, ACTIVATION_CODE_LENGTH)


def registration_key_texts(serials: Sequence[int], *, key: MacKey) -> list[str]:
    """Canonical registration keys (18 symbols) for `serials`."""
    head = (CODE_VERSION << 5 | key.kid) << 36
    inner, outer = _hmac_states(key.secret)
    inner.update(_RK_DOMAIN)
    inner_copy, outer_copy = inner.copy, outer.copy
    pad = bytes(_RECORD_BYTES - 11)
    records: list[bytes] = []
    append = records.append
    for serial in serials:
        data = (head | serial).to_bytes(6, "big")
        h = inner_copy()
        h.update(data)
        o = outer_copy()
        o.update(h.digest())
        append(pad)
        append(data)
        append(o.digest()[:5])
    return _texts(records, REGISTRATION_KEY_LENGTH)


def check_against_core(
    *,
    serial: int,
    key: MacKey,
    registration_key: str | None = None,
    activation_code: str | None = None,
    product: Product = Product.CS,
    seats: int = 1,
    expires_on: date = EXPIRY_EPOCH,
) -> None:
    """Raise RuntimeError unless the given text is what `core.codes` encodes."""
    if activation_code is not None:
        expected = encode_activation_code(
            product=product, seats=seats, expires_on=expires_on, serial=serial, key=key
        ).text
        if activation_code != expected:
            raise RuntimeError(f"bulk activation code {activation_code} != core {expected}")
    if registration_key is not None:
        expected = encode_registration_key(serial=serial, key=key).text
        if registration_key != expected:
            raise RuntimeError(f"bulk registration key {registration_key} != core {expected}")
