"""The console's error pages: a mistyped URL or a fault under /console reads as a page in
the reader's language; the JSON API keeps its JSON."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.testclient import TestClient


def test_mistyped_console_url_is_a_page(admin: TestClient) -> None:
    page = admin.get("/console/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "見つかりません" in page.text
    english = admin.get("/console/no-such-page", headers={"Accept-Language": "en"})
    assert "Not found" in english.text
    api = admin.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"


def test_console_fault_is_a_page(app: FastAPI, make_client: Callable[..., TestClient]) -> None:
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/console/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    client = make_client(None)
    page = client.get("/console/boom", headers={"Accept-Language": "en"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert "a bug" not in page.text
    assert "問題が発生しました" in client.get("/console/boom").text
    api = client.get("/api/v1/boom")
    assert (api.status_code, api.json()["code"]) == (500, "internal_error")
