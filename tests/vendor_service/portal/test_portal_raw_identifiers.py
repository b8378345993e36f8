"""What a customer reads on the portal, and the code file they download, are words: no
product code standing alone after a label (「製品: CS」), no actor id, no machine reason
(issue 23, finding 8). Walked like the demo's browser test, without a browser."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.e2e.raw_identifiers import walk
from tests.vendor_service.portal.conftest import vendor_of

from cssec.vendor_service import services


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_portal_pages_and_the_code_file_read_as_words(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract, lang: str
) -> None:
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="cli:root")
    if lang == "en":
        customer.headers["Accept-Language"] = "en"
        page = customer.get("/portal/")
        if 'lang="en"' not in page.text:  # the session's choice, made as a person makes it
            customer.post("/portal/language", data={"lang": "en", "next": "/portal/"})
    found = walk(customer.get, ["/portal/"], prefix="/portal")
    visited = found.pop("(visited)")
    files = [path for path in visited if path.endswith(".txt")]
    assert len(files) == 2, visited  # the CS and the DCS code files
    assert found == {}, f"raw identifiers ({lang}): {found}"
    code_file = customer.get(files[0]).text
    assert ("製品: C/S Sec." if lang == "ja" else "Product: C/S Sec.") in code_file, code_file
