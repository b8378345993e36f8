"""The names the server's TUF mirror answers for delta targets (`tuf_mirror.
parse_delta_target`) and the delta header it reads before serving one
(`core.delta.delta_hashes`): parsers of what a client or a file on disk hands over, so
property tests. Anything else is None or DeltaError, never another exception."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from cssec.core.delta import DeltaError, delta_hashes, make_delta
from cssec.server.updates.tuf_mirror import parse_delta_target, parse_target

SHA = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
VERSION = st.integers(1, 999_999_999)
COMPONENT = st.sampled_from(["virus_pattern", "spyware_pattern", "scan_engine"])


@given(COMPONENT, SHA, VERSION, VERSION)
def test_a_delta_name_parses_to_its_parts(name: str, sha: str, held: int, to: int) -> None:
    path = f"deltas/{name}/{sha}.{held}-{to}"
    assert parse_delta_target(path) == (name, sha, held, to)
    assert parse_target(path) is None, "never mistaken for a component file"


@given(st.text(max_size=200))
def test_any_other_text_is_none_or_round_trips(path: str) -> None:
    parsed = parse_delta_target(path)
    if parsed is not None:
        name, sha, held, to = parsed
        assert f"deltas/{name}/{sha}.{held}-{to}" == path


def test_names_it_refuses() -> None:
    sha = "a" * 64
    for path in (
        f"deltas/virus_pattern/{sha}.0-2",
        f"deltas/virus_pattern/{sha}.1-2/x",
        f"deltas/../{sha}.1-2",
        f"deltas/virus_pattern/{sha.upper()}.1-2",
        f"deltas/virus_pattern/{sha[:63]}.1-2",
        f"deltas/virus_pattern/{sha}.1-2\n",
        f"deltas/virus_pattern/{sha}.1234567890-2",
        f"virus_pattern/{sha}.1-2",
    ):
        assert parse_delta_target(path) is None, path
    assert parse_target(f"virus_pattern/{sha}.virus_pattern.yar") == ("virus_pattern", sha)
    assert parse_target(f"virus_pattern/{sha}.virus_pattern.yar\n") is None


@given(st.binary(max_size=2000), st.binary(max_size=2000))
def test_the_header_names_source_and_target(source: bytes, target: bytes) -> None:
    assert delta_hashes(make_delta(source, target)) == (
        hashlib.sha256(source).hexdigest(),
        hashlib.sha256(target).hexdigest(),
    )


@given(st.binary(max_size=120))
def test_no_input_crashes_the_header_reader(data: bytes) -> None:
    try:
        source, target = delta_hashes(data)
    except DeltaError:
        return
    assert len(source) == len(target) == 64
