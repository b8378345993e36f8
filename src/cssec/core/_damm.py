"""Damm check symbol over GF(32), so a typo is reported as a typo.

The quasigroup is ``x∘y = 2·x XOR y`` in GF(2^5) (modulus x^5+x^2+1). Because it is totally
anti-symmetric, the check catches every single-symbol substitution and every adjacent
transposition, so a typo never turns into a different valid-looking code.
"""

from __future__ import annotations

from typing import Final

from cssec.core._symbols import ACTIVATION_CODE_LENGTH, ALPHABET

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


def damm_interim(symbols: list[int]) -> int:
    interim = 0
    for symbol in symbols:
        interim = DAMM_TABLE[32 * interim + symbol]
    return interim


def _damm_masks() -> tuple[int, int, int, int, int]:
    """Bit masks that compute the Damm sum of a whole code with five popcounts.

    With this quasigroup the Damm sum is linear: for symbols d_j counted from the right it
    is XOR of a^j·d_j, and multiplying by a^j is a 5x5 bit matrix. Output bit b is then the
    parity of the code's integer under mask b, which keeps the hot path free of a per-symbol
    Python loop. Codes shorter than ACTIVATION_CODE_LENGTH have leading zero symbols, which
    add nothing. Tests check it against the table.
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
    return masks[0], masks[1], masks[2], masks[3], masks[4]


M0, M1, M2, M3, M4 = _damm_masks()


def damm_ok(n: int) -> bool:
    """Whether the symbols of `n`, check symbol last, have a Damm sum of 0.

    OR-ing the popcounts before testing bit 0 tests every parity at once.
    """
    return (
        not (
            (n & M0).bit_count()
            | (n & M1).bit_count()
            | (n & M2).bit_count()
            | (n & M3).bit_count()
            | (n & M4).bit_count()
        )
        & 1
    )


def with_check(n: int, length: int) -> str:
    """`length` symbols of `n`, followed by their check symbol."""
    symbols = [n >> 5 * (length - 1 - i) & 31 for i in range(length)]
    symbols.append(_DAMM_CHECK[damm_interim(symbols)])
    return "".join(ALPHABET[s] for s in symbols)
