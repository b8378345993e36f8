"""`cssec vendor component publish --rollout` and `component rollout show|halt|resume|pull`
as an operator types them (Typer's runner; the same database as the other vendor tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.vendor_service.cli import app

SEED = (
    Path(__file__).resolve().parents[3] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)


def test_publish_show_halt_resume_pull(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    data = str(tmp_path / "vendor")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--data", data])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout + result.stderr

    run("init")
    new = tmp_path / "v2.yar"
    new.write_bytes((SEED / "virus_pattern.yar").read_bytes() + b"\nrule R { condition: false }\n")
    said = run("component", "publish", "virus_pattern", str(new), "--rollout", "1,10,100",
               "--step-hours", "6")  # fmt: skip
    assert "staged rollout: rings 1,10,100 %, every 6 h" in said
    assert "active, ring 1/3 [1, 10, 100] at 1%" in run("component", "rollout", "show")
    assert "halted: broken" in run(
        "component", "rollout", "halt", "virus_pattern", "2", "--reason", "broken"
    )
    assert "active, ring 1/3" in run("component", "rollout", "resume", "virus_pattern", "2")
    refused = run("component", "rollout", "pull", "virus_pattern", "7", code=1)
    assert "rollout_not_found" in refused
    assert "rollout show" in refused, "the way out"
    bad = run("component", "publish", "scan_engine", str(new), "--rollout", "10,1", code=1)
    assert "bad_rollout_plan" in bad
    assert "version 3 (the previous content)" in run(
        "component", "rollout", "pull", "virus_pattern", "2"
    )
    shown = json.loads(run("component", "rollout", "show", "virus_pattern", "--json"))
    assert (shown["state"], shown["pulled_version"]) == ("pulled", 3)
