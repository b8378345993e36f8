"""The code alphabet, and folding what people type into its symbols.

Codes are written in Crockford's base32 alphabet (no I, L, O, U, so nothing reads as
something else). People type them through IMEs, word processors and copy and paste, so
the parser forgives case, full-width forms, look-alikes (O for 0, I and L for 1), dashes
of every kind and invisible characters, and tells the person where anything else was.
"""

from __future__ import annotations

import unicodedata
from typing import Final, Literal, NamedTuple

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ACTIVATION_CODE_LENGTH: Final = 31
REGISTRATION_KEY_LENGTH: Final = 18
ACTIVATION_CODE_GROUPS: Final = (2, 4, 5, 5, 5, 5, 5)
REGISTRATION_KEY_GROUPS: Final = (2, 4, 4, 4, 4)

Kind = Literal["activation_code", "registration_key"]

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


def _symbol_value(ch: str) -> int:
    value = _KNOWN.get(ch)
    return _fold_char(ch) if value is None else value


# Fast path for plain ASCII input: one bytes.translate folds to canonical symbols, a
# second maps them to the digits int(..., 32) reads. "U" becomes "#", so after folding
# isalnum() holds exactly when every byte is a symbol.
ASCII_FOLD: Final = bytes(
    ord(ALPHABET[v]) if (v := _KNOWN[chr(c)]) >= 0 else (ord("#") if chr(c) in "Uu" else c)
    for c in range(128)
) + bytes(range(128, 256))
ASCII_SEPARATORS: Final = b" \t\n\r\x0b\x0c-"
TO_INT_DIGITS: Final = bytes.maketrans(ALPHABET.encode(), b"0123456789abcdefghijklmnopqrstuv")


def normalize(text: str) -> str:
    """The symbols of `text` in canonical form; characters that are not symbols stay in.

    Keeps refused characters (upper-cased) so `classify` counts them by length.
    """
    out = []
    for ch in text:
        value = _symbol_value(ch)
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


def fold_ascii(text: str) -> bytes:
    """Canonical symbols of plain ASCII input in one C-level pass; b"" for anything else."""
    if not text.isascii():
        return b""
    return text.encode().translate(ASCII_FOLD, ASCII_SEPARATORS)


class BadCharacter(NamedTuple):
    position: int
    """1-based, in the text as typed."""
    char: str


def symbol_values(text: str) -> list[int] | BadCharacter:
    """Value of every symbol in `text`, separators dropped, or the first refused character.

    The slow path, for input `fold_ascii` cannot take (full-width IME input, stray
    characters): it walks character by character to say where a bad one was typed.
    """
    values = []
    for position, ch in enumerate(text, 1):
        value = _symbol_value(ch)
        if value == _BAD:
            return BadCharacter(position, ch)
        if value >= 0:
            values.append(value)
    return values


def symbol_positions(text: str) -> list[int]:
    """1-based position, in the text as typed, of every symbol (separators skipped)."""
    return [position for position, ch in enumerate(text, 1) if _symbol_value(ch) >= 0]


def first_symbol_position(text: str) -> int:
    """1-based position of the first symbol, where the product prefix starts as typed."""
    for position, ch in enumerate(text, 1):
        if _symbol_value(ch) >= 0:
            return position
    return 1
