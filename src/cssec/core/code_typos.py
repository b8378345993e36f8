"""Where a mistyped code went wrong, said only when exactly one edit makes it valid.

The Damm check symbol proves that *something* in a code is wrong, not what: for any
symbols that fail it, every position has exactly one replacement that passes, so about
thirty single-symbol "corrections" exist for a made-up code just as for a mistyped one.
A typo is therefore named only when a stronger test, the MAC (which only the vendor can
compute), accepts exactly one of the candidates: every single-symbol substitution and every
adjacent swap. Anywhere without the keys, or when no candidate or several pass, the code
is simply invalid and nothing is said about a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from cssec.core._symbols import ALPHABET, symbol_positions
from cssec.core.codes import (
    CodeCheck,
    CodeError,
    Kind,
    normalize,
    parse_activation_code,
    parse_registration_key,
    verify_activation_code_mac,
    verify_registration_key_mac,
)

__all__ = ["Typo", "check_with_typo", "locate_typo"]

T = TypeVar("T")


@dataclass(frozen=True)
class Typo:
    """The one edit that turns what was typed into a valid code."""

    edit: Literal["substitution", "swap"]
    positions: tuple[int, ...]
    """1-based positions in the text as typed (two for a swap)."""
    typed: str
    """The symbol(s) as typed, in order."""
    meant: str
    """The symbol(s) that make the code valid, in order."""
    corrected: str
    """The corrected code, canonical symbols."""

    @property
    def detail(self) -> dict[str, str]:
        if self.edit == "swap":
            first, second = self.positions
            return {
                "ja": f"{first}文字目と{second}文字目が入れ替わっています"
                f" (「{self.typed}」ではなく「{self.meant}」)",
                "en": f"characters {first} and {second} are swapped"
                f" ('{self.meant}', not '{self.typed}')",
            }
        (position,) = self.positions
        return {
            "ja": f"{position}文字目の「{self.typed}」は「{self.meant}」の入力誤りです"
            " (この1文字を直すと当社が発行した形式のコードになります)",
            "en": f"character {position}, '{self.typed}', is a mistyped '{self.meant}'"
            " (with that one change it is a code made with our key)",
        }


def _edits(symbols: str) -> Iterator[tuple[Literal["substitution", "swap"], int, str]]:
    for i, original in enumerate(symbols):
        for replacement in ALPHABET:
            if replacement != original:
                yield "substitution", i, symbols[:i] + replacement + symbols[i + 1 :]
    for i in range(len(symbols) - 1):
        if symbols[i] != symbols[i + 1]:
            yield "swap", i, symbols[:i] + symbols[i + 1] + symbols[i] + symbols[i + 2 :]


def locate_typo(text: str, accept: Callable[[str], bool]) -> Typo | None:
    """The single substitution or adjacent swap that `accept` takes, else None.

    None also when several candidates pass: then nothing says which one was meant.
    `accept` gets canonical symbols; it is called for every candidate, so it should
    reject cheaply (parse first, MAC last).
    """
    symbols = normalize(text)
    positions = symbol_positions(text)
    if len(positions) != len(symbols):
        return None
    found: Typo | None = None
    for edit, i, candidate in _edits(symbols):
        if not accept(candidate):
            continue
        if found is not None:
            return None
        width = 2 if edit == "swap" else 1
        found = Typo(
            edit=edit,
            positions=tuple(positions[i : i + width]),
            typed=symbols[i : i + width],
            meant=candidate[i : i + width],
            corrected=candidate,
        )
    return found


def check_with_typo(check: CodeCheck[T], text: str, keys: Mapping[int, bytes]) -> CodeCheck[T]:
    """`check` with its CHECK_FAILED detail made specific when the MAC finds one typo.

    Without a unique candidate the check is returned unchanged (the code is invalid).
    """
    if check.error is not CodeError.CHECK_FAILED:
        return check
    kind: Kind = check.kind
    typo = locate_typo(text, _mac_accepts(kind, keys))
    if typo is None:
        return check
    return CodeCheck(
        value=None,
        error=CodeError.CHECK_FAILED,
        position=typo.positions[0],
        detail=typo.detail,
        kind=kind,
    )


def _mac_accepts(kind: Kind, keys: Mapping[int, bytes]) -> Callable[[str], bool]:
    if kind == "registration_key":

        def key_ok(candidate: str) -> bool:
            parsed = parse_registration_key(candidate)
            return parsed.value is not None and verify_registration_key_mac(parsed.value, keys)

        return key_ok

    def code_ok(candidate: str) -> bool:
        parsed = parse_activation_code(candidate)
        return (
            parsed.ok
            and parsed.value is not None
            and verify_activation_code_mac(parsed.value, keys)
        )

    return code_ok
