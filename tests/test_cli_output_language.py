"""The commands a support desk and a site run speak the output language (issue 23, finding 6):
under ja no line is an English sentence or a raw identifier (`virus_pattern`, `active`);
under en every line is English, as scripts read it. Usage errors of nested groups name
the command as a person types it (`cssec vendor keys root init`), however cssec started."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from tests.e2e.raw_identifiers import raw_identifiers
from typer.testing import CliRunner

from cssec.cli import app as cssec_app
from cssec.client.cli import app as client_app
from cssec.server.cli import app as server_app
from cssec.vendor_service.cli import app as vendor_app

runner = CliRunner()
JA: dict[str, str | None] = {
    "LC_ALL": "", "LC_MESSAGES": "", "LANG": "ja_JP.UTF-8", "CSSEC_VENDOR_DATABASE_URL": None
}  # fmt: skip
EN = {**JA, "LANG": "en_US.UTF-8"}
JAPANESE = re.compile("[ぁ-んァ-ヶ一-龯]")
# What a Japanese line may carry in Latin letters: the product's name, the error line's
# stable prefix, a command to type, an option, a URL, a path, a token, a hash, a code, the
# event names --events takes, a file name.
COPYABLE = re.compile(
    r"C/S Sec\.|^error: [a-z_]+: |cssec(?: [a-z0-9-]+)+|--[a-z-]+|https?://\S+|\S*/\S*|"
    r"cssec_[\w-]+…?|[0-9a-f]{16,}|[A-Z0-9]+(?:-[A-Z0-9]+){3,}|[A-Z0-9]{5}-[A-Z0-9]{5}|"
    r"\d{4}-\d\d-\d\dT[\d:.]+Z|"
    r"(?<=イベント: )[\w.,]+|\b[\w-]+\.(?:key|json|pem|tar|csv|bundle)\b"
)
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}")


@dataclass
class Site:
    """A vendor with a TUF root, one contract and a token per language."""

    env: dict[str, str | None]
    dir: Path
    code: str
    revocable: dict[str, str]  # a code for each language's `code revoke`


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    where = tmp_path_factory.mktemp("vendor")
    env = {**EN, "CSSEC_VENDOR_DATA_DIR": str(where / "data")}

    def run(*args: str) -> str:
        done = runner.invoke(cssec_app, ["vendor", *args], env=env, prog_name="cssec")
        assert done.exit_code == 0, (args, done.stdout, done.stderr)
        return done.stdout

    run("init")
    run("keys", "root", "init", "--out", str(where / "root-keys"))
    run("tuf", "root", "install", "--root-keys", str(where / "root-keys"))
    made = run("contract", "new", "--customer", "山間製作所", "--seats", "5")
    code = re.search(r"activation code CS: (\S+)", made)
    assert code is not None, made
    revocable = {}
    for lang in ("ja", "en"):
        run("token", "create", "--name", f"billing-{lang}", "--scope", "contracts:read")
        made = run("contract", "new", "--customer", f"Sankan-{lang}", "--seats", "1")
        found = re.search(r"activation code CS: (\S+)", made)
        assert found is not None, made
        revocable[lang] = found.group(1)
    (where / "staff.pw").write_text("staple battery horse correct\n")
    for lang in ("ja", "en"):
        run("user", "add", f"staff-{lang}", "--password-file", str(where / "staff.pw"))
    secret = where / "whsec"
    secret.write_text("whsec_" + "a" * 32 + "\n")
    run("webhook", "add", "https://hooks.example.com/billing", "--events",
        "contract.renewed,code.revoked", "--secret-file", str(secret),
        "--description", "billing")  # fmt: skip
    # An offline site that took the vendor's components from a bundle.
    (where / "vendor-keys.json").write_text(run("keys", "public"))
    (where / "admin.pw").write_text("offline-admin-pass\n")
    run("component", "bundle", "--code", code.group(1), "--out", str(where / "site.bundle"))
    server = str(where / "server")
    for args in (
        ["install", "--data", server, "--offline", "--activation-code", code.group(1),
         "--vendor-keys-file", str(where / "vendor-keys.json"),
         "--admin-password-file", str(where / "admin.pw")],
        ["components", "import", str(where / "site.bundle"), "--data", server],
    ):  # fmt: skip
        done = runner.invoke(cssec_app, ["server", *args], env=env, prog_name="cssec")
        assert done.exit_code == 0, (args, done.stdout, done.stderr)
    return Site(env, where, code.group(1), revocable)


@dataclass
class Case:
    args: Callable[[Site, str], list[str]]
    status: int
    ja: str  # a phrase the Japanese output holds
    en: str  # and the English one


# fmt: off
CASES = {
    "component bundle": Case(
        lambda s, lang: ["component", "bundle", "--code", s.code,
                         "--out", str(s.dir / f"site-{lang}.bundle")],
        0, "書き出し先: ", "written to: ",
    ),
    "component list": Case(
        lambda s, lang: ["component", "list"], 0, "ウイルスパターンファイル", "virus_pattern"
    ),
    "token list": Case(lambda s, lang: ["token", "list"], 0, "スコープ: ", "scopes="),
    "token revoke": Case(
        lambda s, lang: ["token", "revoke", f"billing-{lang}"], 0, "を失効させました", "revoked"
    ),
    "token create": Case(
        lambda s, lang: ["token", "create", "--name", f"new-{lang}", "--scope", "audit:read"],
        0, "有効期限: なし", "expires: -",
    ),
    "rollout show": Case(lambda s, lang: ["component", "rollout", "show"], 0, "段階的配信", "no"),
    "rollout halt unknown": Case(
        lambda s, lang: ["component", "rollout", "halt", "virus_pattern", "9"],
        1, "ウイルスパターンファイルのバージョン 9", "virus pattern file version 9",
    ),
    "keys bulk": Case(
        lambda s, lang: ["keys", "bulk", "--count", "2", "--seats", "3",
                         "--out", str(s.dir / f"batch-{lang}.csv")],
        0, "製品: C/S Sec.", "products: CS",
    ),
    "code inspect": Case(lambda s, lang: ["code", "inspect", s.code], 0, " UTC", "issued_at:"),
    "code revoke": Case(
        lambda s, lang: ["code", "revoke", s.revocable[lang]], 0, "C/S Sec.  契約 #", "  CS  "
    ),
    "webhook list": Case(
        lambda s, lang: ["webhook", "list"], 0, "シークレットの指紋: sha256:", "secret=sha256:"
    ),
    "server components show": Case(
        lambda s, lang: ["server", "components", "show", "--data", str(s.dir / "server")],
        0, "最後のアップデート: 20", "last update: 20",
    ),
    "backup": Case(
        lambda s, lang: ["backup", "--out", str(s.dir / f"vendor-{lang}.tar")],
        0, "ファイル、SQLite）", "files, sqlite)",
    ),
    "user enrol-2fa": Case(
        lambda s, lang: ["user", "enrol-2fa", f"staff-{lang}"], 0, "リカバリーコード: ",
        "recovery codes: ",
    ),
    "tuf root install from the data directory": Case(
        lambda s, lang: ["tuf", "root", "install", "--root-keys", str(s.dir / "data" / "keys")],
        1, "データディレクトリの中にあります", "inside the data directory",
    ),
    "token revoke unknown": Case(
        lambda s, lang: ["token", "revoke", "nobody"], 1, "「cssec vendor token list」", "nobody"
    ),
    "restore with a wrong key file": Case(
        lambda s, lang: ["restore", str(s.dir / "whsec"), "--data", str(s.dir / f"r-{lang}"),
                         "--key-file", str(s.dir / "whsec")],
        1, "16進数の鍵ではありません", "not a hexadecimal key",
    ),
    "server rollout-timing unknown": Case(
        lambda s, lang: ["server", "components", "rollout-timing", "fast",
                         "--data", str(s.dir / "server")],
        2, "error: invalid_rollout_timing: 配信タイミングは",
        "error: invalid_rollout_timing: Choose",
    ),
    "webhook remove unknown": Case(
        lambda s, lang: ["webhook", "remove", "99"], 1, "「cssec vendor webhook list」", "#99"
    ),
}
# fmt: on


def _lines(site: Site, case: Case, lang: str) -> list[str]:
    env = {**site.env, "LANG": "ja_JP.UTF-8" if lang == "ja" else "en_US.UTF-8"}
    args = case.args(site, lang)
    args = args if args[0] in {"server", "client"} else ["vendor", *args]
    done = runner.invoke(cssec_app, args, env=env, prog_name="cssec")
    assert done.exit_code == case.status, (done.stdout, done.stderr)
    text = done.stdout + done.stderr
    assert (case.ja if lang == "ja" else case.en) in text, text
    return [line for line in text.splitlines() if not line.startswith("データディレクトリ: ")]


@pytest.mark.parametrize("name", CASES)
def test_japanese_output_has_no_english_sentence_or_raw_identifier(site: Site, name: str) -> None:
    for line in _lines(site, CASES[name], "ja"):
        rest = COPYABLE.sub(" ", line)
        assert not ENGLISH_SENTENCE.search(rest), line
        assert raw_identifiers(rest) == [], line
        assert not re.search(r"\b(?:True|False|None|active|revoked|expired)\b", rest), line


@pytest.mark.parametrize("name", CASES)
def test_english_output_is_english(site: Site, name: str) -> None:
    lines = _lines(site, CASES[name], "en")
    assert lines
    for line in lines:
        assert not JAPANESE.search(line.replace("山間製作所", "")), line


# fmt: off
NESTED = [
    (cssec_app, ["vendor", "keys", "root", "init", "--data", "x"], "cssec vendor keys root init"),
    (vendor_app, ["keys", "root", "init", "--data", "x"], "cssec vendor keys root init"),
    (vendor_app, ["tuf", "root", "install"], "cssec vendor tuf root install"),
    (vendor_app, ["component", "rollout", "show", "--bogus"],
     "cssec vendor component rollout show"),
    (server_app, ["components", "rollout-timing", "--bogus"],
     "cssec server components rollout-timing"),
    (client_app, ["quarantine", "list", "--bogus"], "cssec client quarantine list"),
]
# fmt: on


@pytest.mark.parametrize(("app", "args", "path"), NESTED, ids=[" ".join(n[1]) for n in NESTED])
def test_a_usage_error_names_the_command_as_typed(
    app: typer.Typer, args: list[str], path: str
) -> None:
    """Started under another name (a test runner's `root`, `python -m`), the line still
    names `cssec …`: the part's name is not lost, nor replaced by the program's."""
    ja = runner.invoke(app, args, env=JA)  # CliRunner's own program name: "root"
    assert ja.exit_code == 2
    assert ja.stderr.strip().endswith(f"（使い方は {path} --help）"), ja.stderr
    en = runner.invoke(app, args, env=EN)
    assert en.exit_code == 2
    assert en.stderr.strip().endswith(f"(usage: {path} --help)"), en.stderr


def test_an_unconfirmed_activation_warns_in_one_language(site: Site) -> None:
    """`server license activate` offline warned in both languages on one line."""
    env = site.env

    def run(*args: str, lang: dict[str, str | None] = EN) -> tuple[str, str]:
        done = runner.invoke(cssec_app, list(args), env={**env, **lang}, prog_name="cssec")
        assert done.exit_code == 0, (args, done.stdout, done.stderr)
        return done.stdout, done.stderr

    server = str(site.dir / "server")  # installed offline by `site`
    key = re.search(r"\n(\S+)\n*$", run("vendor", "contract", "new", "--customer", "X",
                                        "--seats", "5")[0])  # fmt: skip
    assert key is not None
    for lang, said in (
        (JA, "警告: オンラインで確認できなかったため"),
        (EN, "warning: not confirmed"),
    ):
        code = run("vendor", "code", "reissue", key.group(1), "--product", "CS")[0].split()[-1]
        warned = run("server", "license", "activate", code, "--data", server, lang=lang)[1]
        [line] = [line for line in warned.splitlines() if line.startswith(("警告", "warning"))]
        assert line.startswith(said), line
        assert (JAPANESE.search(line) is None) == (lang is EN), line


def test_a_client_without_components_is_told_in_one_language(tmp_path: Path) -> None:
    from cssec.client.engine import ready_engine  # noqa: PLC0415
    from cssec.client.errors import NoComponents  # noqa: PLC0415
    from cssec.client.state import ClientState  # noqa: PLC0415

    with pytest.raises(NoComponents) as refused:
        ready_engine(ClientState(tmp_path))
    japanese = refused.value.message("ja").replace(str(tmp_path), "")
    assert not ENGLISH_SENTENCE.search(COPYABLE.sub(" ", japanese)), japanese
    assert "(no components installed)" in refused.value.message("en")


PYTHON_TYPES = re.compile(r"<(?:str|bool|list\[\w+\]|\w+ range)>")


@pytest.mark.parametrize(
    "args",
    [["client", "watch"], ["server", "install"], ["vendor", "webhook", "add"]],
    ids=" ".join,
)
def test_help_names_value_types_in_words(args: list[str]) -> None:
    """Typer showed Python's names (`<list[Path]>`, `<str>`, a flag's `<bool>`)."""
    ja = runner.invoke(cssec_app, [*args, "--help"], env={**JA, "COLUMNS": "120"})
    en = runner.invoke(cssec_app, [*args, "--help"], env={**EN, "COLUMNS": "120"})
    assert ja.exit_code == en.exit_code == 0
    assert not PYTHON_TYPES.search(ja.stdout), ja.stdout
    assert not PYTHON_TYPES.search(en.stdout), en.stdout
    assert re.search("<(パス|文字列)>", ja.stdout), ja.stdout
    assert re.search("<(path|text)>", en.stdout), en.stdout


def _japanese_texts() -> list[tuple[str, int, str]]:
    """Every Japanese string constant in src/cssec outside docstrings: (file, line, text)."""
    import ast  # noqa: PLC0415

    src = Path(__file__).resolve().parents[1] / "src" / "cssec"
    found = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found += [
            (str(path.relative_to(src)), node.lineno, node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and JAPANESE.search(node.value)
        ]
    return found


def test_no_japanese_text_carries_markdown_backticks() -> None:
    """A command inside a Japanese message is quoted 「cssec …」: backticks are Markdown,
    shown as they are on a terminal and on a page (issue 23, finding 8)."""
    texts = _japanese_texts()
    assert len(texts) > 500  # the walk reads the sources
    marked = [(path, line, text[:80]) for path, line, text in texts if "`" in text]
    assert marked == []
