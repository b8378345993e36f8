"""The one check of stored names: control characters and bidirectional overrides refused,
naming the field in Japanese and English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.core.names import CUSTOMER_NAME, HOST_NAME, InvalidName, check_name, forbidden_character

REFUSED = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))] + [
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
]


@pytest.mark.parametrize("character", REFUSED)
def test_every_control_and_bidi_override_is_refused(character: str) -> None:
    with pytest.raises(InvalidName) as refused:
        check_name(f"pc{character}01", HOST_NAME)
    error = refused.value
    assert error.fields["field"] == "hostname"
    assert "ホスト名" in error.message("ja")
    assert "host name" in error.message("en")
    assert f"U+{ord(character):04X}" in error.message("en")


def test_ordinary_names_pass_unchanged() -> None:
    for name in ("株式会社サンプル", "ＡＢＣ商事", "O'Brien & Co.", "pc-01.example.local", "ü ß"):
        assert check_name(name, CUSTOMER_NAME) == name


@given(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=40))
def test_names_without_controls_or_overrides_pass(name: str) -> None:
    clean = "".join(c for c in name if c not in REFUSED)
    assert forbidden_character(clean) is None


@given(st.text(max_size=20), st.sampled_from(REFUSED), st.text(max_size=20))
def test_a_refused_character_anywhere_is_found(before: str, bad: str, after: str) -> None:
    assert forbidden_character(before + bad + after) is not None
