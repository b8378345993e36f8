"""A bundle asked of a vendor without a TUF root names the two commands that make one, with
the options they need (issue 23, finding 1), in Japanese and English, on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.vendor_service import cli

runner = CliRunner()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_bundle_refusal_names_the_root_ceremony_with_its_options(
    tmp_path: Path, lang: str
) -> None:
    data = str(tmp_path / "vendor")
    issued = runner.invoke(
        cli.app, ["contract", "new", "--customer", "山間製作所", "--seats", "5", "--data", data]
    )
    assert issued.exit_code == 0, issued.output
    code = next(
        line.split(": ", 1)[1]
        for line in issued.stdout.splitlines()
        if line.startswith("activation code CS")
    )
    refused = runner.invoke(
        cli.app,
        ["--lang", lang, "component", "bundle", "--code", code, "--out",
         str(tmp_path / "site.bundle"), "--data", data],
    )  # fmt: skip
    assert refused.exit_code == 1, refused.output
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: tuf_not_installed: ")
    assert "cssec vendor keys root init --out ROOT_KEYS" in lines[0]
    assert "cssec vendor tuf root install --root-keys ROOT_KEYS --data DIR" in lines[0]
    assert not (tmp_path / "site.bundle").exists()
