"""Every action the vendor writes to the audit log, and every field its rows carry, has a
name on the console in both languages: the support desk read 「source test」 and
`component.rollout_halted` where a label was missing. The sources are walked (with `ast`)
for `record_audit(…)` calls and the admin API's `_audit(…)`, so a new action or field
without a name fails here."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import vendor_of

import cssec.vendor_service as vendor_pkg
from cssec.vendor_service import services
from cssec.vendor_service.console.audit_labels import ACTIONS, FIELDS, action_label, field_label
from cssec.vendor_service.services.portal import redeem_sign_in, request_sign_in
from cssec.web.i18n import current_language

SOURCES = Path(vendor_pkg.__file__).parent
CONTACT = "it-admin@example.co.jp"
AUDIT_CALLS = {"record_audit", "_audit", "audit"}


def _audit_calls() -> Iterator[tuple[ast.Call, ast.AST, ast.Module, dict[str, ast.FunctionDef]]]:
    """Each audit call, with the function around it, its module and the module's functions."""
    for path in sorted(SOURCES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        scopes: list[ast.AST] = [tree, *functions.values()]
        for scope in scopes:
            for node in ast.walk(scope):
                func = node.func if isinstance(node, ast.Call) else None
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if isinstance(node, ast.Call) and name in AUDIT_CALLS:
                    yield node, scope, tree, functions


def _strings(node: ast.AST | None, scope: ast.AST) -> set[str]:
    """The strings `node` may be: a literal, either branch, or a name assigned one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, scope) | _strings(node.orelse, scope)
    if isinstance(node, ast.Name):
        return set().union(*(_strings(v, scope) for v in _assigned(node.id, scope)))
    return set()


def _assigned(name: str, scope: ast.AST) -> list[ast.expr]:
    return [
        n.value
        for n in ast.walk(scope)
        if isinstance(n, ast.Assign | ast.AnnAssign)
        and n.value is not None
        and any(isinstance(t, ast.Name) and t.id == name for t in _targets(n))
    ]


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _keys(node: ast.AST | None, scope: ast.AST, functions: dict[str, ast.FunctionDef]) -> set[str]:
    """The keys a before/after dict may hold: a literal's (with its ** parts), a local
    variable's (and `name["key"] = …` after it), or what a module function returns."""
    if isinstance(node, ast.Dict):
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                keys |= _keys(value, scope, functions)
        return keys
    if isinstance(node, ast.IfExp | ast.BoolOp):
        parts = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
        return set().union(*(_keys(p, scope, functions) for p in parts))
    if isinstance(node, ast.Name):
        keys = set().union(*(_keys(v, scope, functions) for v in _assigned(node.id, scope)))
        for n in ast.walk(scope):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if (
                        isinstance(t, ast.Subscript)
                        and isinstance(t.value, ast.Name)
                        and t.value.id == node.id
                        and isinstance(t.slice, ast.Constant)
                    ):
                        keys.add(t.slice.value)
        return keys
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        helper = functions.get(node.func.id)
        if helper is not None:
            returns = [n.value for n in ast.walk(helper) if isinstance(n, ast.Return)]
            return set().union(*(_keys(r, helper, functions) for r in returns))
    return set()


def _written() -> tuple[set[str], set[str]]:
    actions: set[str] = set()
    fields: set[str] = set()
    for call, scope, module, functions in _audit_calls():
        arguments: dict[str, ast.expr] = {k.arg: k.value for k in call.keywords if k.arg}
        if len(call.args) >= 4:  # the admin API's _audit(request, principal, action, after)
            arguments |= {"action": call.args[2], "after": call.args[3]}
        action = arguments.get("action")
        actions |= _strings(action, scope) or _strings(action, module)
        for side in ("before", "after"):
            fields |= _keys(arguments.get(side), scope, functions)
    return actions, fields


def test_the_walk_finds_the_audit_rows() -> None:
    actions, fields = _written()
    # A walk that found nothing would pass whatever the labels say.
    assert {"code.revoked", "api.read", "component.rollout_resumed", "user.2fa_enrolled"} <= actions
    assert {"locked_until", "source", "covered_by", "request_sha256", "method"} <= fields


def test_every_written_action_and_field_has_a_name() -> None:
    actions, fields = _written()
    assert sorted(actions - set(ACTIONS)) == [], "audit actions without a name on the console"
    assert sorted(fields - set(FIELDS)) == [], "audit fields without a name on the console"


@pytest.mark.parametrize(("lang", "index"), [("ja", 0), ("en", 1)])
def test_the_names_are_in_the_page_language(lang: str, index: int) -> None:
    token = current_language.set(lang)
    try:
        assert action_label("code.revoked") == ACTIONS["code.revoked"][index]
        assert field_label("locked_until") == FIELDS["locked_until"][index]
        assert action_label("from.a_newer_release") == "from.a_newer_release"
    finally:
        current_language.reset(token)
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for ja, en in [*ACTIONS.values(), *FIELDS.values()]:
        assert japanese.search(ja) or ja in {"URL", "SHA-256"}, ja
        assert not japanese.search(en), en


def test_a_portal_sign_in_reads_as_words(
    app: FastAPI,
    make_client: Callable[..., TestClient],
    contract: services.IssuedContract,
) -> None:
    with vendor_of(app).session() as session:
        services.change_contact(
            session, contract.contract_id, contact_email=CONTACT, language="ja", actor="test"
        )
    with vendor_of(app).session() as session:
        link = request_sign_in(session, contract.registration_key, CONTACT, source="203.0.113.9")
    with vendor_of(app).session() as session:
        redeem_sign_in(session, link.token)
    page = make_client(**{"Accept-Language": "ja"}).get("/console/audit").text
    assert "お客様がポータルにサインイン" in page
    assert "<dt>接続元</dt>" in page
    assert "<dt>source</dt>" not in page
