"""What the support desk reads in the console are words: the audit log says who acted as a
person reads it (not `cli:root`) and names products (not `Products CS DCS`), the webhook
page has no Markdown backticks, no page leaves a machine reason in parentheses (issue 23,
finding 8). Walked like the demo's browser test, without a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.e2e.raw_identifiers import walk
from tests.vendor_service.console.conftest import vendor_of

from cssec.vendor_service import services


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_console_pages_and_the_audit_log_read_as_words(
    app: FastAPI,
    make_client: Callable[..., TestClient],
    contract: services.IssuedContract,
    lang: str,
) -> None:
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="cli:root")
        code = services.issue_replacement_code(
            session, contract.registration_key, actor="token:ci-bot"
        )
        services.revoke_code(session, code, actor="cli:root", reason="紛失")
    client = make_client(**{"Accept-Language": lang})
    starts = ["/console/", "/console/audit", "/console/webhooks", f"/console/?q={code}"]
    found = walk(client.get, starts, prefix="/console")
    visited = found.pop("(visited)")
    assert f"/console/contracts/{contract.contract_id}" in visited
    assert any(path.startswith("/console/audit/") for path in visited), visited
    assert found == {}, f"raw identifiers ({lang}): {found}"
    audit = client.get("/console/audit").text
    assert ("コマンドライン（root）" if lang == "ja" else "Command line (root)") in audit
    assert ("ウイルス感染復旧サービス" if lang == "ja" else "Damage Cleanup Services") in audit
