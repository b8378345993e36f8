"""`cssec vendor component publish --rollout` and `component rollout show|halt|resume|pull`
as an operator types them (Typer's runner; the same database as the other vendor tests)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.vendor_service.cli import app
from cssec.vendor_service.runtime import secure_vendor_dir

SEED = (
    Path(__file__).resolve().parents[3] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)


def _environment(monkeypatch: pytest.MonkeyPatch, lang: str, database_url: str | None) -> None:
    """The CLI's language from LANG alone, and the vendor on SQLite or the test PostgreSQL."""
    monkeypatch.setenv("LANG", lang)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)


def test_publish_show_halt_resume_pull(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(monkeypatch, "en_US.UTF-8", database_url)
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


def test_in_japanese_with_no_file_mode_to_fix(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default language speaks Japanese on every line (the console's words), and what
    publish writes (blobs, the delta and its index) needs no fix at the next command."""
    _environment(monkeypatch, "ja_JP.UTF-8", database_url)
    vendor = tmp_path / "vendor"
    runner = CliRunner()
    said: list[str] = []

    def run(*args: str, data: bool = True) -> list[str]:
        result = runner.invoke(app, [*args, *(["--data", str(vendor)] if data else [])])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        said.append(result.stderr)
        return result.stdout.splitlines()

    old = os.umask(0o022)  # an ordinary login shell's umask
    try:
        run("init")
        run("keys", "root", "init", "--out", str(tmp_path / "root-keys"), data=False)
        run("tuf", "root", "install", "--root-keys", str(tmp_path / "root-keys"))
        new = tmp_path / "v2.yar"
        new.write_bytes(
            (SEED / "virus_pattern.yar").read_bytes() + b"\nrule R { condition: false }\n"
        )
        published = run("component", "publish", "virus_pattern", str(new), "--rollout", "10,100")
        shown = run("component", "rollout", "show", "virus_pattern")
        halted = run("component", "rollout", "halt", "virus_pattern", "2", "--reason", "誤検知")
        pulled = run("component", "rollout", "pull", "virus_pattern", "2")
        run("component", "rollout", "show")
    finally:
        os.umask(old)
    assert published[0].startswith("ウイルスパターンファイルのバージョン2を公開しました（sha256 ")
    assert published[-1] == (
        "段階的配信: ウイルスパターンファイル v2を10% → 100%の順に24時間おきに配信します"
        "（確認: cssec vendor component rollout show virus_pattern）"
    ), "the last line names the version halt and pull take"
    assert shown[0].startswith(
        "ウイルスパターンファイル v2（前のバージョン: v1）: 配信中、"
        "リング 1/2 (10% → 100%)、現在 10%、"
    )
    assert shown[1].startswith("  ヘルス: サーバ 0、クライアント 0、読み込みの失敗 0.0%")
    assert "停止中" in halted[0]
    assert halted[-1] == "  停止の理由: 誤検知"
    assert pulled == [
        "ウイルスパターンファイル v2を取り下げました: 前の内容をバージョン3として全サーバに"
        "公開しました（マニフェストのシリアル番号 6）"
    ]
    english = re.compile(r"\b(published|staged|rollout:|ring|health|halted|pulled|servers)\b")
    everything = published + shown + halted + pulled
    assert [line for line in everything if english.search(line.replace("rollout show", ""))] == []
    assert not any("警告" in err or "file mode" in err for err in said), said
    deltas = vendor / "activeupdate" / "deltas"
    assert any(deltas.iterdir()), "publish made a delta"
    assert stat.S_IMODE(deltas.stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in deltas.iterdir()} == {0o600}
    assert secure_vendor_dir(vendor) == [], "nothing cssec wrote needed a fix"
    # A mode that does need a fix is said in the output language, as a warning line.
    (vendor / "keys" / "hmac.json").chmod(0o644)
    result = runner.invoke(app, ["component", "rollout", "show", "--data", str(vendor)])
    assert (
        f"警告: {vendor / 'keys' / 'hmac.json'}のファイルモードが0644だったため0600に直しました"
        "（データファイルは所有者だけが使います）"
    ) in result.stderr.splitlines()
