"""Refusals that carried raw identifiers (issue 23, finding 8): a component refusal with no
detail said 「（-）」 and one with a TUF message put English inside the Japanese sentence;
the vendor's bundle refusal gave the server administrator's advice to the support desk;
English counts said "1 clients"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.core.plural import count_en
from cssec.server.updates.errors import BundleRefused, ComponentUpdateFailed

ENGLISH_PROSE = re.compile(r"[A-Za-z]+ [A-Za-z]+")


def test_a_refusal_without_detail_has_no_empty_parentheses() -> None:
    refused = BundleRefused("bad_bundle")
    assert "（-）" not in refused.message("ja")
    assert "(-)" not in refused.message("en")
    assert "ファイルがコンポーネントバンドルではないか、壊れています。" in refused.message("ja")


def test_english_technical_detail_stays_out_of_the_japanese_sentence() -> None:
    failed = ComponentUpdateFailed("bad_metadata", "Signature verification failed for root")
    ja = failed.message("ja")
    assert not ENGLISH_PROSE.search(ja.replace("C/S Sec.", "")), ja
    assert "(Signature verification failed for root)" in failed.message("en")
    assert failed.fields["detail"] == "Signature verification failed for root"
    kept = BundleRefused("bad_bundle", "/tmp/site.bundle")
    assert "（/tmp/site.bundle）" in kept.message("ja")


def test_english_counts() -> None:
    assert [count_en(n, "client") for n in (0, 1, 2)] == ["0 clients", "1 client", "2 clients"]
    assert count_en(1, "entry", "entries") == "1 entry"


def _vendor(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cssec_app, ["vendor", *args], prog_name="cssec")
    return result.exit_code, result.stderr.strip().splitlines()[-1]  # after the data-dir note


@pytest.fixture
def vendor_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LANG", "LC_ALL", "LC_MESSAGES", "CSSEC_VENDOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CSSEC_VENDOR_DATA_DIR", str(tmp_path / "vendor"))
    assert _vendor("init")[0] == 0
    return tmp_path


def test_the_bundle_refusal_speaks_to_the_support_desk(vendor_dir: Path) -> None:
    result = CliRunner().invoke(
        cssec_app,
        ["vendor", "contract", "new", "--customer", "X", "--seats", "1",
         "--start", "2020-01-01", "--months", "1"],
        prog_name="cssec",
    )  # fmt: skip
    code = next(
        line.split(": ")[1] for line in result.stdout.splitlines() if "activation code CS" in line
    )
    status, said = _vendor("component", "bundle", "--code", code, "--out", str(vendor_dir / "b"))
    assert status == 1
    assert said.startswith("error: license_expired: ")  # the machine code is unchanged
    assert "cssec vendor contract renew" in said
    assert "運用管理" not in said  # the server's screens are not the desk's
    assert "製品ライセンス" not in said
    status, said = _vendor(
        "component", "bundle", "--code", "AB" * 5, "--out", str(vendor_dir / "c")
    )
    assert status == 1
    assert said.startswith("error: invalid_activation_code: ")
    assert "cssec vendor code inspect" in said
