"""`https://vendor:8100/` in a browser is a page that says what the service is and links to
the console, the portal and the API reference; a program asking for JSON gets JSON
(issue 23, finding 10)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("lang", "title"), [("ja", "C/S Sec. ライセンスサービス"),
                                              ("en", "C/S Sec. license service")])  # fmt: skip
def test_a_browser_gets_a_page_with_the_ways_in(client: TestClient, lang: str, title: str) -> None:
    page = client.get("/", headers={"Accept": BROWSER, "Accept-Language": lang})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in page.text
    for path in ("/console/", "/portal/", "/docs"):
        assert f'href="{path}"' in page.text
        assert client.get(path, headers={"Accept": BROWSER}).status_code == 200


def test_a_program_gets_json(client: TestClient) -> None:
    answer = client.get("/", headers={"Accept": "application/json", "Accept-Language": "en"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["service"] == "C/S Sec. license service"
    assert set(body["links"]) == {"/console/", "/portal/", "/docs"}
