"""`core.delta`: apply(make(a, b), a) == b for any a and b; a delta for another source,
a damaged or a hostile delta never yields a file (DeltaError, nothing else); a pattern
that grew by 1 % costs a delta far smaller than the file."""

from __future__ import annotations

import hashlib
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssec.core.delta import (
    MAGIC,
    DeltaError,
    apply_delta,
    delta_target_length,
    make_delta,
)

blobs = st.binary(max_size=3000)


@st.composite
def related(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A source and a target made from it by a few inserts, deletions and changes."""
    source = draw(st.binary(min_size=0, max_size=4000))
    target = bytearray(source)
    for _ in range(draw(st.integers(0, 6))):
        where = draw(st.integers(0, len(target)))
        action = draw(st.sampled_from(["insert", "delete", "change"]))
        chunk = draw(st.binary(min_size=1, max_size=200))
        if action == "insert":
            target[where:where] = chunk
        elif action == "delete":
            del target[where : where + len(chunk)]
        else:
            target[where : where + len(chunk)] = chunk
    return source, bytes(target)


@given(blobs, blobs)
def test_any_target_is_rebuilt_from_any_source(source: bytes, target: bytes) -> None:
    delta = make_delta(source, target)
    assert apply_delta(delta, source) == target
    assert delta_target_length(delta) == len(target)


@given(related())
def test_related_files_round_trip(pair: tuple[bytes, bytes]) -> None:
    source, target = pair
    assert apply_delta(make_delta(source, target), source) == target


@given(related(), st.binary(min_size=1, max_size=50))
def test_a_delta_for_another_source_is_refused(pair: tuple[bytes, bytes], other: bytes) -> None:
    source, target = pair
    delta = make_delta(source, target)
    with pytest.raises(DeltaError):
        apply_delta(delta, source + other)


@settings(max_examples=300)
@given(related(), st.data())
def test_a_changed_byte_never_yields_a_file(pair: tuple[bytes, bytes], data: st.DataObject) -> None:
    source, target = pair
    delta = bytearray(make_delta(source, target))
    where = data.draw(st.integers(0, len(delta) - 1))
    delta[where] ^= data.draw(st.integers(1, 255))
    try:
        result = apply_delta(bytes(delta), source)
    except DeltaError:
        return
    assert result == target  # only a change the format ignores (none today) may pass


@given(st.binary(max_size=400), blobs)
def test_no_input_crashes_the_decoder(delta: bytes, source: bytes) -> None:
    for candidate in (delta, MAGIC + delta):
        with pytest.raises(DeltaError):
            apply_delta(candidate, source)


def _header(source: bytes, target_len: int, target_sha: bytes = b"\0" * 32) -> bytes:
    return (
        MAGIC
        + bytes([len(source)])
        + _leb(target_len)
        + hashlib.sha256(source).digest()
        + (target_sha)
    )


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_hostile_deltas_are_refused_before_any_work() -> None:
    source = b"abc"
    huge = _header(source, 1 << 40) + zlib.compress(b"")
    with pytest.raises(DeltaError, match="exceeds"):
        apply_delta(huge, source)
    # A zlib bomb: far more operations than the target's length allows.
    bomb = _header(source, 10) + zlib.compress(b"\x02\x01a" * 100_000)
    with pytest.raises(DeltaError, match="oversized"):
        apply_delta(bomb, source)
    out_of_bounds = _header(source, 10) + zlib.compress(b"\x01\x02\x05")
    with pytest.raises(DeltaError, match="bounds"):
        apply_delta(out_of_bounds, source)
    too_long = _header(source, 2) + zlib.compress(b"\x02\x03xyz")
    with pytest.raises(DeltaError, match="longer"):
        apply_delta(too_long, source)
    wrong = _header(source, 3) + zlib.compress(b"\x02\x03xyz")
    with pytest.raises(DeltaError, match="does not produce"):
        apply_delta(wrong, source)


def test_a_pattern_grown_by_one_percent_costs_a_small_delta() -> None:
    rng = random.Random(7)
    rules = [
        f"rule R{i} {{ strings: $a = {{ {rng.getrandbits(96):024x} }} condition: $a }}\n".encode()
        for i in range(6000)
    ]
    source = b"".join(rules)
    grown = list(rules)
    for i in range(60):
        where = rng.randrange(len(grown))
        rule = f"rule N{i} {{ strings: $a = {{ {rng.getrandbits(96):024x} }} condition: $a }}\n"
        grown.insert(where, rule.encode())
    target = b"".join(grown)
    delta = make_delta(source, target)
    assert apply_delta(delta, source) == target
    assert len(delta) / len(target) < 0.02
