"""The bundle reader (`server.updates.bundle.read_members`) is a parser of untrusted input:
any bytes give the files or BundleRefused(bad_bundle), never another exception; links,
directories, unexpected names and duplicates are refused; a good tar round-trips."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.server.updates.bundle import MAX_BUNDLE_BYTES, BundleRefused, read_members

REQUIRED = {"bundle.json": b"{}", "keys.json": b"{}", "root-endorsement.json": b"{}"}
SHA = "a" * 64


def _tar(entries: list[tuple[str, bytes, bytes]]) -> bytes:
    """(name, type, data) entries, type a tarfile type flag."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.linkname = "bundle.json"
                tar.addfile(info)
    return out.getvalue()


def _good(**extra: bytes) -> list[tuple[str, bytes, bytes]]:
    files = {**REQUIRED, **extra}
    return [(name, tarfile.REGTYPE, data) for name, data in files.items()]


@given(st.binary(max_size=3000))
def test_no_bytes_crash_the_reader(data: bytes) -> None:
    with pytest.raises(BundleRefused) as refused:  # no bundle.json in random bytes
        read_members(data)
    assert refused.value.cause == "bad_bundle"


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "metadata/timestamp.json",
                "metadata/1.root.json",
                "metadata/12.targets.json",
                f"targets/virus_pattern/{SHA}.virus_pattern.yar",
                "activeupdate/manifest.json",
                "../bundle.json",
                "/etc/passwd",
                "metadata/0.root.json",
                f"targets/virus_pattern/{SHA}/x",
                "targets/../../x",
            ]
        ),
        st.binary(max_size=200),
        max_size=5,
    )
)
def test_only_the_expected_names_are_accepted(extra: dict[str, bytes]) -> None:
    allowed = {
        "metadata/timestamp.json",
        "metadata/1.root.json",
        "metadata/12.targets.json",
        f"targets/virus_pattern/{SHA}.virus_pattern.yar",
    }
    data = _tar(_good(**extra))
    if set(extra) <= allowed:
        assert read_members(data) == {**REQUIRED, **extra}
    else:
        with pytest.raises(BundleRefused):
            read_members(data)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE])
def test_links_and_directories_are_refused(kind: bytes) -> None:
    data = _tar([*_good(), ("metadata/timestamp.json", kind, b"")])
    with pytest.raises(BundleRefused, match="unexpected entry"):
        read_members(data)


def test_duplicates_missing_members_and_size_are_refused() -> None:
    twice = _tar([*_good(), ("keys.json", tarfile.REGTYPE, b"[]")])
    with pytest.raises(BundleRefused, match="twice"):
        read_members(twice)
    missing = _tar([("bundle.json", tarfile.REGTYPE, b"{}")])
    with pytest.raises(BundleRefused, match=r"no keys\.json"):
        read_members(missing)
    with pytest.raises(BundleRefused, match="larger"):
        read_members(b"\0" * (MAX_BUNDLE_BYTES + 1))
