"""A typo is named, with where, only when exactly one edit makes the code valid.

A made-up code fails the check symbol exactly as a mistyped one does, so without the MAC
(the Web manager, the client) it is called invalid; with the MAC (the vendor's console and
CLI) the single substitution or adjacent swap that gives a code made with our key is named.
"""

from __future__ import annotations

import random
from datetime import date

from cssec.core.code_typos import check_with_typo, locate_typo
from cssec.core.codes import (
    ALPHABET,
    CodeError,
    MacKey,
    check_activation_code,
    check_registration_key,
    encode_activation_code,
    encode_registration_key,
    parse_activation_code,
)
from cssec.core.license import Product

SECRET = bytes(range(32))
KEYS = {1: SECRET}


def _code(serial: int = 1234) -> str:
    code = encode_activation_code(
        product=Product.CS,
        seats=50,
        expires_on=date(2027, 3, 31),
        serial=serial,
        key=MacKey(1, SECRET),
    )
    return code.formatted


def _substitute(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_one_substitution_is_named_with_its_position() -> None:
    code = _code()
    typed = _substitute(code, 9)  # the 10th character as typed, hyphens counted
    check = check_with_typo(check_activation_code(typed, KEYS), typed, KEYS)
    assert check.error is CodeError.CHECK_FAILED
    assert check.position == 10
    assert check.detail["ja"].startswith(f"10文字目の「{typed[9]}」は「{code[9]}」の入力誤りです")
    assert f"character 10, '{typed[9]}', is a mistyped '{code[9]}'" in check.detail["en"]


def test_an_adjacent_swap_is_named_with_both_positions() -> None:
    code = _code(serial=77)
    i = next(i for i in range(3, 30) if code[i] != code[i + 1] and "-" not in code[i : i + 2])
    typed = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    typo = locate_typo(typed, lambda c: check_activation_code(c, KEYS).ok)
    assert typo is not None
    assert typo.edit == "swap"
    assert typo.positions == (i + 1, i + 2)
    assert typo.corrected == code.replace("-", "")
    assert f"{i + 1}文字目と{i + 2}文字目が入れ替わっています" in typo.detail["ja"]


def test_a_registration_key_typo_is_named() -> None:
    key = encode_registration_key(serial=5, key=MacKey(1, SECRET)).formatted
    typed = _substitute(key, 4)
    check = check_with_typo(check_registration_key(typed, KEYS), typed, KEYS)
    assert check.position == 5
    assert "入力誤りです" in check.detail["ja"]


def test_a_made_up_code_is_invalid_not_a_typo() -> None:
    rng = random.Random(7)
    named = 0
    for _ in range(40):
        made_up = "CS" + "".join(rng.choice(ALPHABET) for _ in range(29))
        check = check_with_typo(check_activation_code(made_up, KEYS), made_up, KEYS)
        assert not check.ok
        named += "入力誤り" in check.detail.get("ja", "")
        if check.error is CodeError.CHECK_FAILED:
            assert check.position is None
            assert "チェック文字が一致しません" in check.detail["ja"]
    assert named == 0


def test_without_the_mac_many_fixes_exist_so_none_is_named() -> None:
    """Why the Web manager never says "typo": the check symbol alone has a fix almost anywhere."""
    typed = _substitute(_code(), 20)
    fixes: list[str] = []

    def count(candidate: str) -> bool:
        if parse_activation_code(candidate).ok:
            fixes.append(candidate)
        return False

    locate_typo(typed, count)
    assert len(fixes) > 20
    assert locate_typo(typed, lambda c: parse_activation_code(c).ok) is None
    parsed = parse_activation_code(typed)
    assert parsed.error is CodeError.CHECK_FAILED
    assert "入力誤り" not in parsed.detail["ja"]
