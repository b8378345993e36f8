"""What an offline site's administrator reads when a new code by file would lower the
license: `license request --code` warns, `license import` holds the code and names the
command that imports the same file confirmed, in one language, and `--help` says that
such an import needs `--confirm`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.e2e.raw_identifiers import raw_identifiers
from tests.test_cli_output_language import COPYABLE, EN, ENGLISH_SENTENCE, JA, JAPANESE
from typer.testing import CliRunner

from cssec.cli import app as cssec_app

runner = CliRunner()
CONFIRM = "cssec server license import RESP.json --confirm"


@dataclass
class Site:
    env: dict[str, str | None]
    dir: Path
    lower: str  # a CS code of another contract: fewer seats, an earlier end


def _run(env: dict[str, str | None], *args: str, status: int = 0) -> tuple[str, str]:
    done = runner.invoke(cssec_app, list(args), env=env, prog_name="cssec")
    assert done.exit_code == status, (args, done.stdout, done.stderr)
    return done.stdout, done.stderr


def _cs_code(made: str) -> str:
    found = re.search(r"activation code CS: (\S+)", made)
    assert found is not None, made
    return found.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    where = tmp_path_factory.mktemp("offline")
    env = {**EN, "CSSEC_VENDOR_DATA_DIR": str(where / "vendor")}
    _run(env, "vendor", "init")
    live = _cs_code(_run(env, "vendor", "contract", "new", "--customer", "A", "--seats", "5")[0])
    lower = _cs_code(
        _run(env, "vendor", "contract", "new", "--customer", "B", "--seats", "3",
             "--months", "6")[0]
    )  # fmt: skip
    (where / "vendor-keys.json").write_text(_run(env, "vendor", "keys", "public")[0])
    (where / "admin.pw").write_text("offline-admin-pass\n")
    _run(env, "server", "install", "--data", str(where / "server"), "--offline",
         "--activation-code", live, "--vendor-keys-file", str(where / "vendor-keys.json"),
         "--admin-password-file", str(where / "admin.pw"))  # fmt: skip
    return Site(env, where, lower)


def _held_import(site: Site, lang: dict[str, str | None]) -> tuple[str, str, str]:
    """Request the lower code by file, answer, import unconfirmed: (request's stderr,
    import's stdout, import's stderr)."""
    env = {**site.env, **lang}
    name = "ja" if lang is JA else "en"
    request, response = site.dir / f"req-{name}.json", site.dir / f"resp-{name}.json"
    server = str(site.dir / "server")
    warned = _run(env, "server", "license", "request", "--data", server, "--code", site.lower,
                  "--out", str(request))[1]  # fmt: skip
    _run(env, "vendor", "license", "respond", str(request), "--out", str(response))
    said, error = _run(
        env, "server", "license", "import", str(response), "--data", server, status=1
    )
    return warned, said, error


def test_a_held_import_speaks_japanese_and_names_the_confirmed_command(site: Site) -> None:
    warned, said, error = _held_import(site, JA)
    assert "警告: 新しいコードでは現在のライセンスより条件が下がります" in warned, warned
    [line] = [line for line in error.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: confirmation_required: "), line
    assert f"「{CONFIRM}」" in line, "the command a person copies names the response file"
    for text in (warned, said, error):
        for line in text.splitlines():
            if line.startswith("データディレクトリ: "):
                continue
            rest = COPYABLE.sub(" ", line)
            assert not ENGLISH_SENTENCE.search(rest), line
            assert raw_identifiers(rest) == [], line


def test_a_held_import_speaks_english(site: Site) -> None:
    warned, said, error = _held_import(site, EN)
    assert warned.startswith("warning: the new code would lower the current license"), warned
    assert CONFIRM in error, error
    for line in (warned + said + error).splitlines():
        assert not JAPANESE.search(line), line


def test_request_help_says_a_lowering_code_needs_confirm() -> None:
    args = ["server", "license", "request", "--help"]
    ja = runner.invoke(cssec_app, args, env=JA).stdout
    assert "ライセンスが下がる場合は--confirmを付けて取り込みます" in re.sub(r"[\s│]", "", ja)
    assert "cssecserverlicenseimportで取り込みます" in re.sub(r"[\s│]", "", ja)
    en = runner.invoke(cssec_app, args, env=EN).stdout
    assert "with --confirm when it lowers the license" in " ".join(en.replace("│", " ").split())
