"""The page kit both vendor web apps use (`cssec.vendor_service.webkit`): one layout and
one stylesheet behind the console and the portal, and one session module whose sign-in
makes a fresh session, whose cookie stays on its own app's paths and whose language
switch is refused without the form's token."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

from cssec.core.errors import CsrfFailed
from cssec.vendor_service.webkit import (
    KIT_STATIC,
    WebApp,
    check_csrf,
    install_session,
    start_session,
    template_loader,
)
from cssec.web.pages import csrf_token

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN_PAGES = ("/console/login", "/portal/")


def test_both_apps_share_the_layout_and_its_stylesheet(client: TestClient) -> None:
    kit_css = (KIT_STATIC / "kit.css").read_bytes()
    for path in SIGN_IN_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        prefix = path.split("/")[1]
        # The skip link comes before the header and leads to the page's main content.
        assert re.search(r'<body[^>]*>\s*<a class="skip-link" href="#main">', page.text), path
        assert '<main id="main">' in page.text, path
        assert f'href="/{prefix}/static/kit.css"' in page.text, path
        assert f'href="/{prefix}/static/{prefix}.css"' in page.text, path
        served = client.get(f"/{prefix}/static/kit.css")
        assert served.status_code == 200
        assert served.content == kit_css
    assert "本文へスキップ" in client.get("/portal/").text
    english = client.get("/console/login", headers={"Accept-Language": "en"})
    assert "Skip to the content" in english.text


def test_error_pages_of_both_apps_offer_one_way_on(client: TestClient) -> None:
    console = client.get("/console/no-such-page", headers={"Accept-Language": "en"})
    assert console.status_code == 404
    assert 'href="/console/login">Go to the login page</a>' in console.text
    portal = client.get("/portal/no-such-page", headers={"Accept-Language": "en"})
    assert portal.status_code == 404
    assert 'href="/portal/">Back to the sign-in page</a>' in portal.text


@pytest.mark.parametrize("path", SIGN_IN_PAGES)
def test_the_language_switch_needs_the_form_token(client: TestClient, path: str) -> None:
    prefix = path.split("/")[1]
    page = client.get(path)
    token = _CSRF.search(page.text)
    assert token is not None
    refused = client.post(f"/{prefix}/language", data={"lang": "en", "next": path})
    assert refused.status_code == 403
    assert "cssec_lang" not in refused.headers.get("set-cookie", "")
    switched = client.post(
        f"/{prefix}/language",
        data={"lang": "en", "next": "https://elsewhere.example/", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/{prefix}/"  # never off the app
    assert "cssec_lang=en" in switched.headers["set-cookie"]
    assert "HttpOnly" in switched.headers["set-cookie"]


def _kit_app(tmp_path: Path) -> FastAPI:
    """An app of its own on the kit's session: /demo/token shows the CSRF token, /demo/login
    signs in, /demo/check checks a token, /elsewhere is outside the app."""
    (tmp_path / "static").mkdir()
    web = WebApp("demo", tmp_path, logout_path="/logout")
    app = FastAPI()

    @app.get("/demo/token")
    def show_token(request: Request) -> Response:
        return PlainTextResponse(csrf_token(request))

    @app.post("/demo/login")
    def login(request: Request) -> Response:
        start_session(request, {"uid": 7})
        return PlainTextResponse(csrf_token(request))

    @app.get("/demo/check")
    def check(request: Request, token: str) -> Response:
        try:
            check_csrf(request, token)
        except CsrfFailed:
            return PlainTextResponse("refused", status_code=403)
        return PlainTextResponse(f"ok {request.session.get('uid')}")

    @app.get("/elsewhere")
    def elsewhere() -> Response:
        return PlainTextResponse("outside")

    install_session(app, web, secret="kit test secret", https_only=False)
    return app


def test_sign_in_makes_a_fresh_session_and_token(tmp_path: Path) -> None:
    client = TestClient(_kit_app(tmp_path))
    before = client.get("/demo/token").text
    assert client.get("/demo/check", params={"token": before}).text == "ok None"
    after = client.post("/demo/login").text
    assert after != before
    # A token known before the sign-in (one an attacker could have planted) is worthless after.
    assert client.get("/demo/check", params={"token": before}).status_code == 403
    assert client.get("/demo/check", params={"token": after}).text == "ok 7"
    altered = after[:-1] + ("y" if after.endswith("x") else "x")
    assert client.get("/demo/check", params={"token": altered}).status_code == 403


def test_the_session_cookie_stays_on_its_app(tmp_path: Path) -> None:
    client = TestClient(_kit_app(tmp_path))
    first = client.get("/demo/token")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("cssec_demo=")
    assert "path=/demo" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "httponly" in cookie.lower()
    outside = client.get("/elsewhere")
    assert outside.text == "outside"
    assert "set-cookie" not in outside.headers


def test_a_field_shows_its_error_beside_it() -> None:
    env = jinja2.Environment(loader=template_loader(Path("/nonexistent")), autoescape=True)
    template = env.from_string(
        '{% from "_kit.html" import field %}'
        '{{ field("email", "E-mail", errors=errors, value="a<b", type="email", required=true) }}'
    )
    wrong = template.render(errors={"email": "Enter the address."})
    assert 'aria-invalid="true" aria-describedby="email-error"' in wrong
    assert '<p class="field-error" id="email-error" data-testid="error-email">' in wrong
    assert 'type="email" required value="a&lt;b"' in wrong
    right = template.render(errors={})
    assert "aria-invalid" not in right
    assert "field-error" not in right
