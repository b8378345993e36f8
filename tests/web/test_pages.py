"""Page helpers both web apps share: the `next` check and the CSRF check."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Form, Request
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from cssec.web.http import install_error_handlers
from cssec.web.pages import LoginRequired, check_csrf, csrf_token, pick, safe_next


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/console\\..\\x",
        "/\t/evil.example/",
        "/\n/evil.example",
        "/a\x00b",
        "/a\x85b",
        "javascript:alert(1)",
        "dashboard",
    ],
)
def test_safe_next_refuses_anything_but_a_plain_local_path(url: str | None) -> None:
    assert safe_next(url, default="/home") == "/home"


def test_safe_next_keeps_local_paths_under_the_prefix() -> None:
    assert safe_next("/admin/licenses?x=1", default="/d") == "/admin/licenses?x=1"
    assert safe_next("/console/audit", default="/console/", within="/console/") == (
        "/console/audit"
    )
    assert safe_next("/dashboard", default="/console/", within="/console/") == "/console/"


def test_pick_falls_back_to_japanese() -> None:
    assert pick({"ja": "日本語", "en": "English"}) == "日本語"
    assert pick({"ja": "日本語"}) == "日本語"
    assert pick(None) == ""


def test_csrf_and_login_required_answers() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/token")
    def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/form")
    def form(request: Request, csrf_token: str = Form("")) -> dict[str, str]:
        check_csrf(request, csrf_token)
        return {"ok": "yes"}

    @app.get("/private")
    def private() -> None:
        raise LoginRequired("/private?a=b", login_path="/console/login")

    app.add_middleware(SessionMiddleware, secret_key="test secret")
    client = TestClient(app)
    issued = client.get("/token").json()["token"]
    assert client.post("/form", data={"csrf_token": issued}).json() == {"ok": "yes"}
    for forged in ("", "forged-" + issued):
        refused = client.post("/form", data={"csrf_token": forged})
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf_failed"
    redirected = client.get("/private", follow_redirects=False)
    assert redirected.status_code == 303
    assert redirected.headers["location"] == "/console/login?next=/private%3Fa%3Db"
