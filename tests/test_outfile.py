"""`--out` files (cssec.outfile): never over an existing file or through a symbolic link
without --force; with it, a link is replaced and its target left alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cssec.outfile import OutputExists, write_new_file


def test_a_new_file_is_written_with_the_mode_asked(tmp_path: Path) -> None:
    out = tmp_path / "REQ.json"
    write_new_file(out, b"{}", mode=0o600)
    assert out.read_bytes() == b"{}"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_an_existing_file_is_refused_then_replaced_with_force(tmp_path: Path) -> None:
    out = tmp_path / "REQ.json"
    out.write_bytes(b"earlier")
    with pytest.raises(OutputExists) as refused:
        write_new_file(out, b"new")
    assert out.read_bytes() == b"earlier"
    assert "--force" in refused.value.message("ja")
    assert "nothing was written" in refused.value.message("en")
    write_new_file(out, b"new", mode=0o644, force=True)
    assert out.read_bytes() == b"new"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["REQ.json"], "no temporary left"


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_never_followed(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "authorized_keys"
    if not dangling:
        target.write_bytes(b"victim")
    link = tmp_path / "REQ.json"
    link.symlink_to(target)
    with pytest.raises(OutputExists):
        write_new_file(link, b"attacker")
    assert target.exists() is not dangling
    if not dangling:
        assert target.read_bytes() == b"victim"
    write_new_file(link, b"mine", force=True)
    assert not link.is_symlink()
    assert link.read_bytes() == b"mine"
    assert not dangling or not target.exists()
    if not dangling:
        assert target.read_bytes() == b"victim"
