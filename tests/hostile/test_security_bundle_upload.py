"""The component bundle upload on the Web manager ([バンドルを取り込む]) attacked with
hand-made tar files: a GNU sparse member that claims far more bytes than the upload holds
(a tar bomb: tarfile fills the holes with zeros on read), and JSON nested deeper than the
parser's recursion limit. Each must be a refusal on the page, with nothing kept.

Already covered in tests/server/updates/test_bundle_reader.py: random bytes, unexpected
names, links and directories, duplicates, the size limit of the upload itself.
"""

from __future__ import annotations

import io
import tarfile
import tracemalloc

import pytest
from fastapi import FastAPI
from tests.hostile.test_security_webmanager import client_for, database, login, token_of

from cssec.server.updates.bundle import MAX_BUNDLE_BYTES, BundleRefused, read_members

COMPONENTS = "/updates/components"
IMPORT = COMPONENTS + "/import"
NOISE = {"clock_observations", "server_info", "users", "events", "update_log_server"}
"""What an upload touches whatever the file: the clock guard's notes, the admin's login,
events, and the server update log, which records a refused import by design."""


def _octal(value: int, width: int) -> bytes:
    return f"{value:0{width - 1}o}".encode() + b"\0"


def sparse_member(name: str, claimed: int, data: bytes = b"{") -> bytes:
    """One old-style GNU sparse member ('S'): `data` stored, `claimed` bytes on reading
    (the rest a hole that reads as zeros)."""
    header = bytearray(512)
    header[0 : len(name)] = name.encode()
    header[100:108] = _octal(0o644, 8)
    header[108:116] = _octal(0, 8)
    header[116:124] = _octal(0, 8)
    header[124:136] = _octal(len(data), 12)
    header[136:148] = _octal(0, 12)
    header[156:157] = b"S"
    header[257:265] = b"ustar  \0"
    # The sparse map: the stored bytes at the very end of the claimed size.
    header[386:398] = _octal(claimed - len(data), 12)
    header[398:410] = _octal(len(data), 12)
    header[483:495] = _octal(claimed, 12)
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}".encode() + b"\0 "
    body = data + b"\0" * (-len(data) % 512)
    return bytes(header) + body


def bomb_tar(claimed: int) -> bytes:
    """The sparse bundle.json, then the other required members (genuine, by tarfile)."""
    rest = tar_of({"keys.json": b"{}", "root-endorsement.json": b"{}"})
    return sparse_member("bundle.json", claimed) + rest


def tar_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_the_sparse_bomb_is_what_it_claims() -> None:
    """The control: Python's tarfile really reads the member as `claimed` bytes."""
    with tarfile.open(fileobj=io.BytesIO(bomb_tar(4096)), mode="r:") as tar:
        member = tar.getmember("bundle.json")
        assert member.isfile()
        assert member.issparse()
        handle = tar.extractfile(member)
        assert handle is not None
        assert len(handle.read()) == 4096


def test_a_sparse_member_claiming_more_than_the_limit_is_refused_before_reading() -> None:
    data = bomb_tar(2 * MAX_BUNDLE_BYTES)
    assert len(data) < 16 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(BundleRefused) as refused:
            read_members(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.cause == "bad_bundle"
    assert peak < 8 * 1024 * 1024, f"{peak} bytes allocated for an {len(data)}-byte upload"


@pytest.mark.parametrize("member", ["bundle.json", "keys.json", "root-endorsement.json"])
async def test_deep_json_in_a_bundle_is_a_refusal_not_a_crash(
    server_app: FastAPI, member: str
) -> None:
    files = {"bundle.json": b"{}", "keys.json": b"{}", "root-endorsement.json": b"{}"}
    files[member] = b"[" * 200_000 + b"]" * 200_000
    before = {t: r for t, r in database(server_app).items() if t not in NOISE}
    async with client_for(server_app) as admin:
        await login(admin)
        answer = await admin.post(
            IMPORT,
            data={"csrf_token": await token_of(admin, COMPONENTS)},
            files={"bundle_file": ("bundle.tar", tar_of(files), "application/x-tar")},
        )
        assert answer.status_code == 303, answer.text[:300]
        page = await admin.get(COMPONENTS)
    assert 'data-testid="flash-danger"' in page.text
    assert {t: r for t, r in database(server_app).items() if t not in NOISE} == before
