"""The CLI speaks one language at a time (issue 23, finding 6): Typer's usage errors are
our one line in the output language, help texts are never cut at 80 columns, the support
desk's `code inspect` and `contract new` read in Japanese, and an error never carries an
English aside inside a Japanese message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.cli_help_ja import HELP_JA
from cssec.core.errors import Phrase, ValidationFailed

runner = CliRunner()
JA = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ja_JP.UTF-8", "COLUMNS": "80"}
EN = {**JA, "LANG": "en_US.UTF-8"}
TYPER_ENGLISH = re.compile(
    r"Missing|No such|Invalid value|unexpected|requires an|does not|Try '|Usage|Error|"
    r"Input should|is not one of"
)
BOX = re.compile("[╭╰│─]")

USAGE_MISTAKES = [
    ["vendor", "--bogus"],
    ["vendor", "contract", "new"],
    ["vendor", "contract", "new", "--customer"],
    ["vendor", "contract", "new", "--customer", "X", "--seats", "abc"],
    ["vendor", "contract", "new", "--customer", "X", "--seats", "1", "--with-dcs=yes"],
    ["vendor", "contract", "neww"],
    ["vendor", "code", "inspect"],
    ["vendor", "code", "inspect", "A", "B"],
    ["vendor", "--lang", "fr", "code", "inspect", "A"],
    ["vendor", "license", "respond", "/nonexistent/REQ.json", "--out", "x"],
    ["server", "install", "--bogus"],
    ["client", "status", "--nope"],
]


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("CSSEC_VENDOR_DATA_DIR", str(tmp_path / "vendor"))


@pytest.mark.parametrize("args", USAGE_MISTAKES, ids=" ".join)
def test_a_usage_error_is_one_line_in_the_output_language(args: list[str]) -> None:
    ja = runner.invoke(cssec_app, args, env=JA, prog_name="cssec")
    assert ja.exit_code == 2, ja.output
    assert ja.stdout == ""
    [line] = ja.stderr.splitlines()
    assert line.startswith("error: usage_error: "), line
    assert not TYPER_ENGLISH.search(line), line
    assert not BOX.search(line), line
    assert re.search(r"使い方は cssec (vendor|server|client)[a-z ]* --help）$", line), line

    en = runner.invoke(cssec_app, args, env=EN, prog_name="cssec")
    assert en.exit_code == 2
    [line] = en.stderr.splitlines()
    assert line.startswith("error: usage_error: "), line
    assert re.search(r"\(usage: cssec [a-z ]+ --help\)$", line), line
    assert not re.search("[ぁ-んァ-ン]", line), line


def test_a_usage_error_names_what_is_wrong() -> None:
    said = {
        " ".join(args): runner.invoke(cssec_app, args, env=JA, prog_name="cssec").stderr.strip()
        for args in USAGE_MISTAKES[:4]
    }
    assert "オプション --bogusはありません" in said["vendor --bogus"]
    assert "オプション --customerを指定してください" in said["vendor contract new"]
    assert "cssec vendor contract new --help" in said["vendor contract new --customer"]
    assert (
        "--seatsの値が正しくありません: 整数で指定してください"
        in said["vendor contract new --customer X --seats abc"]
    )
    lang = runner.invoke(cssec_app, USAGE_MISTAKES[8], env=JA, prog_name="cssec").stderr
    assert "'fr'は指定できません" in lang


def _flat(text: str) -> str:
    return re.sub(r"[\s│╭╰─╮╯]", "", text)


@pytest.mark.parametrize("part", ["vendor", "server", "client"])
def test_help_at_80_columns_shows_every_sentence_whole(part: str) -> None:
    """Typer cut a Japanese line it could not break ("先にデ …"): every text is whole."""
    shown = runner.invoke(cssec_app, [part, "--help"], env=JA, prog_name="cssec")
    assert shown.exit_code == 0, shown.output
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())
    flat = _flat(shown.stdout)
    from typer.main import get_command  # noqa: PLC0415

    group = get_command(cssec_app).get_command(None, part)  # type: ignore[attr-defined]
    for name, command in group.commands.items():
        english = " ".join((command.__dict__.get("_cssec_en_help") or "").split())
        japanese = HELP_JA.get(english)
        if japanese:
            assert _flat(japanese) in flat, (name, japanese)


def _vendor(*args: str, env: dict[str, str] = JA) -> tuple[int, str, str]:
    result = runner.invoke(cssec_app, ["vendor", *args], env=env, prog_name="cssec")
    return result.exit_code, result.stdout, result.stderr


def test_the_support_desk_reads_japanese() -> None:
    assert _vendor("init")[0] == 0
    status, out, _ = _vendor("contract", "new", "--customer", "検証商事", "--seats", "3",
                             "--start", "2026-12-01", "--with-dcs")  # fmt: skip
    assert status == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "契約番号: 1  顧客: 検証商事",
        "ライセンス数: 3",
        "契約期間: 2026-12-01 〜 2027-11-30",
    ]
    # The lines scripts read keep one spelling in every language (cli_output's rule).
    assert [line.split(": ")[0] for line in lines[3:5]] == [
        "activation code CS",
        "activation code DCS",
    ]
    code = lines[3].split(": ")[1]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")

    status, out, _ = _vendor("code", "inspect", code)
    assert status == 0
    assert "判定:" in out
    assert "有効" in out
    assert "製品:         C/S Sec." in out
    assert "契約の状態:   アクティベート済み" in out
    assert not re.search(r"^[a-z_]+:", out, re.MULTILINE), out

    status, out, _ = _vendor("code", "inspect", typo)
    assert status == 1
    assert re.search(r"^判定: +無効$", out, re.MULTILINE), out
    assert "check_failed" not in out

    status, out, _ = _vendor("code", "inspect", typo, env=EN)
    assert status == 1
    assert "verdict:        invalid" in out
    assert "reason:         check_failed" in out

    status, out, _ = _vendor("contract", "renew", lines[5], "--months", "12")
    assert (status, out.strip()) == (0, "契約番号 1の終了日: 2027-11-30 → 2028-11-30")


def test_no_english_aside_in_a_japanese_error(tmp_path: Path) -> None:
    install = ["install", "--server", "http://127.0.0.1:9", "--fingerprint", "sha256:1",
               "--dir", str(tmp_path / "client")]  # fmt: skip
    given = runner.invoke(
        cssec_app,
        ["client", *install],
        env=JA,
        prog_name="cssec",
    )
    assert given.exit_code == 1
    [line] = given.stderr.splitlines()
    assert line.startswith(
        "error: invalid_fingerprint: 証明書の指紋が正しくありません (16進数が1桁です)"
    )
    assert "hex digits, not" not in line
    english = runner.invoke(
        cssec_app, ["client", "--lang", "en", *install], env=JA, prog_name="cssec"
    )
    assert "(a SHA-256 fingerprint has 64 hex digits, not 1)" in english.stderr


def test_a_phrase_field_follows_the_message_language() -> None:
    error = ValidationFailed(detail=Phrase("値が空です", "the value is empty"))
    assert error.message("ja") == "入力内容に誤りがあります: 値が空です"
    assert error.message("en") == "The request is not valid: the value is empty"
    assert error.to_dict("ja")["detail"] == "値が空です"
    assert str(error) == "The request is not valid: the value is empty"


def test_token_create_speaks_japanese_and_its_usage_error_too() -> None:
    assert _vendor("init")[0] == 0
    status, out, err = _vendor("token", "create", "--name", "billing", "--scope",
                               "contracts:read", "--expires", "90")  # fmt: skip
    assert status == 0, err
    assert out.splitlines()[0] == "トークン billing: スコープ contracts:read"
    assert "表示はこの一度だけです" in err
    status, _, err = _vendor("token", "create", "--name", "x", "--scope", "contracts:read",
                             "--expires", "soon")  # fmt: skip
    assert status == 2
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("error: usage_error: --expiresの値が正しくありません: 日数で指定してください")
    )


def test_server_install_refusals_carry_no_english_detail_in_japanese(tmp_path: Path) -> None:
    short = tmp_path / "pw"
    short.write_text("short\n")
    args = ["server", "install", "--data", str(tmp_path / "srv"), "--offline",
            "--activation-code", "CS-2000-S7V40-00001-0Z7D8-1P8GJ-F32BE",
            "--admin-password-file", str(short)]  # fmt: skip
    refused = runner.invoke(cssec_app, args, env=JA, prog_name="cssec")
    assert refused.exit_code == 1
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("error: validation_error: 入力内容に誤りがあります: 管理者パスワードは")
    assert "must be at least" not in line
    english = runner.invoke(cssec_app, args, env=EN, prog_name="cssec")
    assert "the admin password must be at least" in english.stderr


def test_tuf_root_refusals_are_japanese_in_japanese(tmp_path: Path) -> None:
    args = ["vendor", "keys", "root", "init", "--out", str(tmp_path / "root")]
    assert runner.invoke(cssec_app, args, env=JA, prog_name="cssec").exit_code == 0
    again = runner.invoke(cssec_app, args, env=JA, prog_name="cssec")
    assert again.exit_code == 1
    line = again.stderr.strip().splitlines()[-1]
    where = tmp_path / "root"
    said = f"TUFのルートを作成できません: {where}にはすでにルート鍵があります"
    assert line == f"error: tuf_root_refused: {said}"
    english = runner.invoke(cssec_app, args, env=EN, prog_name="cssec")
    assert "already holds root keys" in english.stderr
