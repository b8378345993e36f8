"""cssec.core stays pure: the standard library, `cryptography` and itself, nothing else.

Checked on the source rather than at import time, so an import hidden in a function body,
under TYPE_CHECKING or behind a relative path is caught as well.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import cssec.core

CORE_DIR = Path(cssec.core.__file__).parent
MODULES = sorted(CORE_DIR.rglob("*.py"))
ALLOWED_THIRD_PARTY = {"cryptography"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("cssec", "core", *parts))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
            else:
                assert node.module is not None
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.append((node.lineno, "<dynamic import>"))
    return found


def _is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "__import__"
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _allowed(module: str) -> bool:
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
        return True
    return module == "cssec.core" or module.startswith("cssec.core.")


def test_there_is_something_to_check() -> None:
    names = {p.name for p in MODULES}
    assert {"__init__.py", "clock.py", "errors.py", "license.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_core_imports_only_stdlib_cryptography_and_core(path: Path) -> None:
    offending = [
        f"{path.name}:{line} imports {name}" for line, name in _imports(path) if not _allowed(name)
    ]
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("import json", True),
        ("from cryptography.hazmat.primitives import hashes", True),
        ("from cssec.core.license import LicenseState", True),
        ("from . import license", True),
        ("import fastapi", False),
        ("from cssec.server import app", False),
        ("from .. import server", False),
        ("def f():\n    import sqlalchemy", False),
        ("import importlib\nimportlib.import_module('httpx')", False),
        ("__import__('httpx')", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pydantic", False),
    ],
)
def test_the_checker_itself(
    tmp_path: Path, source: str, ok: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_core = tmp_path / "core"
    fake_core.mkdir()
    module = fake_core / "probe.py"
    module.write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "CORE_DIR", fake_core)
    assert all(_allowed(name) for _, name in _imports(module)) is ok
