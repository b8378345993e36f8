"""Issue 22, item 5: `cssec server license request --out` (a file the administrator carries
to the vendor) refuses an existing file and a symbolic link unless --force.

Before: it overwrote an existing file and wrote through a symbolic link. After: refused
(exit 1, `output_exists`, in Japanese and English), the file or the link's target left as it
was and no request recorded; with --force the name is replaced (a link itself, never its
target). The same rule holds for the vendor's `--out` files (tests/vendor_service)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.helpers.server import Desk, ServerFactory
from typer.testing import CliRunner

from cssec.server.cli import app


def _request(data: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["license", "request", "--data", str(data), "--out", str(out), "--lang", "en",
              *extra],
    )  # fmt: skip
    return result.exit_code, result.output


async def test_license_request_never_overwrites_nor_follows_a_link(
    servers: ServerFactory, desk: Desk, tmp_path: Path
) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    data = settings.data_dir
    existing = tmp_path / "REQ.json"
    existing.write_text("an earlier request")
    code, output = _request(data, existing)
    assert code == 1, output
    assert "output_exists" in output
    assert "--force" in output
    assert existing.read_text() == "an earlier request"

    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    link = tmp_path / "link.json"
    link.symlink_to(victim)
    code, output = _request(data, link)
    assert code == 1, output
    assert victim.read_text() == "not yours"
    assert link.is_symlink()

    code, output = _request(data, link, "--force")
    assert code == 0, output
    assert victim.read_text() == "not yours", "the link was replaced, not followed"
    assert not link.is_symlink()
    assert "activation_code" in link.read_text()
    assert isinstance(json.loads(link.read_text()), dict)
    assert stat.S_IMODE(link.stat().st_mode) == 0o644

    code, output = _request(data, existing, "--force")
    assert code == 0, output
    assert existing.read_text() != "an earlier request"
