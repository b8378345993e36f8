"""The published test vectors (docs/vectors/) against cssec's implementation, and the
independent Node.js verifier (docs/vectors/verify.mjs) against the vectors.

Three ways they can disagree, each caught here: the implementation changed and the
committed vectors did not (regenerated in memory and compared byte for byte); a committed
verdict is not what cssec's verifiers say of its case; the verifier written from
docs/protocol.md reads a vector differently than cssec does. And the Node verifier must
notice when a vector is corrupted, or passing it would prove nothing.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "vectors"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed (Debian: apt-get install nodejs)"
)


def _module(name: str) -> ModuleType:
    if str(VECTORS) not in sys.path:
        sys.path.insert(0, str(VECTORS))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    built: dict[str, str] = _module("make_vectors").build()
    return built


def _committed(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


def test_committed_vectors_are_what_the_implementation_generates(
    generated: dict[str, str],
) -> None:
    committed = {p.name for p in VECTORS.glob("*.json")}
    assert committed == set(generated), "vector files added or removed without regenerating"
    stale = [n for n, text in generated.items() if (VECTORS / n).read_text("utf-8") != text]
    assert not stale, (
        f"{stale} differ from what the implementation generates: if the format change is "
        "deliberate, run `.venv/bin/python docs/vectors/make_vectors.py`, update "
        "docs/protocol.md and say why in the commit"
    )


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(VECTORS.glob("*.json")):
        if path.name != "keys.json":
            out += [(path.stem, case) for case in _committed(path.name)["cases"]]
    return out


def test_python_verifiers_reach_every_committed_verdict() -> None:
    verifiers = _module("pyverify").VERIFIERS
    keys = _committed("keys.json")
    cases = _cases()
    wrong = [
        f"{stem}/{case['id']}: {verdict} != {case['expect']}"
        for stem, case in cases
        if (verdict := verifiers[stem](case, keys)) != case["expect"]
    ]
    assert not wrong, "\n".join(wrong)
    stems = {stem for stem, _ in cases}
    assert stems == set(verifiers), "a vector file without a verifier, or the reverse"
    # Every file shows refusals as well as acceptances.
    for stem in stems:
        verdicts = [c["expect"] for s, c in cases if s == stem]
        flat = [v.get("full", v) for v in verdicts]
        assert any(v["ok"] for v in flat), stem
        assert any(not v["ok"] for v in flat) or stem in {"install_tokens", "endorsements"}, stem


def test_webhook_vectors_pin_the_tolerance_on_both_sides() -> None:
    """protocol.md §10: 300 s either way is accepted (inclusive), 301 s refused, so a
    receiver off by one at either edge disagrees with a vector."""
    timing = {None, "timestamp_too_old", "timestamp_too_new"}
    verdicts = {}
    for case in _committed("webhooks.json")["cases"]:
        headers = {name.lower(): value for name, value in case["headers"].items()}
        if case["expect"]["reason"] in timing:
            age = case["context"]["now"] - int(headers["webhook-timestamp"])
            verdicts[age] = case["expect"]
    assert {age: verdicts.get(age) for age in (-301, -300, 300, 301)} == {
        -301: {"ok": False, "reason": "timestamp_too_new"},
        -300: {"ok": True, "reason": None},
        300: {"ok": True, "reason": None},
        301: {"ok": False, "reason": "timestamp_too_old"},
    }


def _node(directory: Path) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(VECTORS / "verify.mjs"), str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_node
def test_independent_node_verifier_agrees_with_every_vector() -> None:
    result = _node(VECTORS)
    assert result.returncode == 0, result.stderr
    assert f"all {len(_cases())} cases agree" in result.stdout


def _corrupt(directory: Path) -> list[str]:
    """Damage one vector of several kinds in a copy; the ids the verifier must name."""

    def edit(name: str, case_id: str, change: Any) -> str:
        path = directory / name
        body = json.loads(path.read_text("utf-8"))
        case = next(c for c in body["cases"] if c["id"] == case_id)
        change(case)
        path.write_text(json.dumps(body, indent=2), "utf-8")
        return f"{path.stem}/{case_id}"

    def flip_check_symbol(case: dict[str, Any]) -> None:
        text = case["input"]
        case["input"] = text[:-1] + ("0" if text[-1] != "0" else "1")

    def flip_signature(case: dict[str, Any]) -> None:
        sig = case["envelope"]["signature"]
        case["envelope"]["signature"] = ("B" if sig[0] == "A" else "A") + sig[1:]

    return [
        edit("codes.json", "ac-valid-cs", flip_check_symbol),
        edit("status_statements.json", "valid-activated", flip_signature),
        edit("webhooks.json", "valid", lambda c: c.update(body=c["body"].replace("1001", "1002"))),
        edit(
            "webhooks.json",
            "valid-ahead-at-tolerance",
            lambda c: c["context"].update(now=c["context"]["now"] - 1),
        ),
        edit("endorsements.json", "chain-in-order", lambda c: c["endorsements"].pop(0)),
        edit(
            "license_responses.json",
            "valid",
            lambda c: c.update(file=c["file"].replace('"seats": 25', '"seats": 26', 1)),
        ),
    ]


@needs_node
def test_independent_node_verifier_fails_on_corrupted_vectors(tmp_path: Path) -> None:
    copy = tmp_path / "vectors"
    shutil.copytree(VECTORS, copy, ignore=shutil.ignore_patterns("*.py", "*.mjs", "__pycache__"))
    damaged = _corrupt(copy)
    codes = json.loads((copy / "codes.json").read_text("utf-8"))
    codes["fold"]["symbols"]["FF21"] = "B"  # full-width A said to read as B
    (copy / "codes.json").write_text(json.dumps(codes), "utf-8")
    result = _node(copy)
    assert result.returncode == 1, result.stdout
    for case in damaged:
        assert f"DISAGREE {case}:" in result.stderr, (case, result.stderr)
    assert "DISAGREE codes.fold U+FF21:" in result.stderr
    assert "disagreement(s) over" in result.stderr
