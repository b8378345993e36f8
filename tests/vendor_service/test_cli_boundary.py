"""`cssec vendor` at the shared CLI boundary: language, one-line faults, inspect's exit status."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.vendor_service.cli import app

runner = CliRunner()
LOCALE = ("LANG", "LC_ALL", "LC_MESSAGES")


@pytest.fixture(autouse=True)
def _sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    for name in LOCALE:
        monkeypatch.delenv(name, raising=False)


def _refusal(data: Path, *options: str, **env: str) -> tuple[int, str]:
    args = [*options, "contract", "new", "--customer", "X", "--seats", "0", "--data", str(data)]
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.stderr.strip()


@pytest.mark.parametrize(
    ("options", "env", "expected"),
    [
        ((), {}, "ja"),
        ((), {"LANG": "C"}, "ja"),
        ((), {"LANG": "en_US.UTF-8"}, "en"),
        ((), {"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        ((), {"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        (("--lang", "en"), {"LANG": "ja_JP.UTF-8"}, "en"),
        (("--lang", "ja"), {"LC_ALL": "en_US.UTF-8"}, "ja"),
    ],
)
def test_language_by_option_and_environment(
    tmp_path: Path, options: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    status, line = _refusal(tmp_path / "vendor", *options, **env)
    assert status == 1
    assert line.startswith("error: invalid_contract_terms: ")
    assert len(line.splitlines()) == 1
    if expected == "ja":
        assert "ライセンス数" in line
    else:
        assert "seats must be 1 to 65535" in line


def test_lang_on_the_mounted_part(tmp_path: Path) -> None:
    args = ["vendor", "--lang", "en", "contract", "new", "--customer", "X", "--seats", "0",
            "--data", str(tmp_path / "vendor")]  # fmt: skip
    result = runner.invoke(cssec_app, args, env={"LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 1
    assert "seats must be 1 to 65535" in result.stderr


def test_a_data_dir_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    data = tmp_path / "file" / "vendor"
    result = runner.invoke(app, ["keys", "public", "--data", str(data)])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: os_error: ファイルまたはシステムの操作に失敗しました"), line
    assert "ENOTDIR" in line
    english = runner.invoke(app, ["--lang", "en", "keys", "public", "--data", str(data)])
    [line] = english.stderr.strip().splitlines()
    assert line.startswith("error: os_error: A file or system operation failed"), line


def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    data.mkdir()
    (data / "vendor.db").write_bytes(b"this is not an SQLite database" * 100)
    result = runner.invoke(app, ["code", "inspect", "XX", "--data", str(data)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: database_error: "), line
    assert "Traceback" not in result.output


def _issue(data: Path, *args: str) -> list[str]:
    result = runner.invoke(app, ["contract", "new", "--customer", "X", "--seats", "5", *args,
                                 "--data", str(data)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip().splitlines()


def _inspect(data: Path, code: str) -> tuple[int, str]:
    """In English: its keys are the stable ones a script reads (Japanese labels otherwise)."""
    result = runner.invoke(app, ["--lang", "en", "code", "inspect", code, "--data", str(data)])
    return result.exit_code, result.stdout


def test_inspect_exit_status_tells_the_verdict(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    lines = _issue(data)
    key = lines[-1]
    code = next(line.split(": ")[1] for line in lines if line.startswith("activation code CS"))
    assert _inspect(data, code)[0] == 0
    assert _inspect(data, key)[0] == 0

    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    status, out = _inspect(data, typo)
    assert (status, "verdict:        invalid" in out) == (1, True)

    old = _issue(data, "--start", "2020-01-01", "--months", "1")
    expired = next(line.split(": ")[1] for line in old if line.startswith("activation code CS"))
    status, out = _inspect(data, expired)
    assert (status, "verdict:        expired" in out) == (1, True)

    revoked = runner.invoke(app, ["code", "revoke", code, "--data", str(data)])
    assert revoked.exit_code == 0, revoked.stderr
    status, out = _inspect(data, code)
    assert (status, "verdict:        revoked" in out) == (1, True)

    usage = runner.invoke(app, ["code", "inspect", "--data", str(data)])
    assert usage.exit_code == 2
    bad_start = runner.invoke(app, ["contract", "new", "--customer", "X", "--seats", "1",
                                    "--start", "2026-13-01", "--data", str(data)])  # fmt: skip
    assert bad_start.exit_code == 2
    assert "YYYY-MM-DD" in bad_start.stderr
