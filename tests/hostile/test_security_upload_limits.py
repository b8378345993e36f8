"""An oversized upload from a browser gets the HTML error page in its language, on the Web
manager, the console and the portal alike; the API keeps its JSON 413. The body limit
refuses it before any route runs (before sign-in, CSRF or parsing), announced or streamed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from cssec.server.webmanager.renewal_pages import RESPONSE_URL

OVERSIZED = b"x" * (64 * 1024 + 1)
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PAGES = {
    "webmanager": RESPONSE_URL,
    "console": "/console/offline-renewal",
    "portal": "/portal/contracts/1/license-file",
}
LOGIN_FORMS = {
    "webmanager": "/login",
    "console": "/console/login",
    "portal": "/portal/signin",
}
"""Forms whose routes read the body before anything else: where a streamed body is counted."""
TEXTS = {"ja": "リクエストが大きすぎます。", "en": "Request too large."}


def _app(name: str, vendor_app: FastAPI, server_app: FastAPI) -> FastAPI:
    return server_app if name == "webmanager" else vendor_app


def _upload(client: TestClient, path: str, *, accept: str, lang: str, stream: bool) -> object:
    headers = {"Accept": accept, "Accept-Language": lang}
    if stream:  # no Content-Length: the limit counts the chunks as they come

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(OVERSIZED), 8192):
                yield OVERSIZED[start : start + 8192]

        form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        return client.post(path, content=chunks(), headers=form)
    return client.post(
        path, files={"request_file": ("REQ.json", OVERSIZED, "application/json")}, headers=headers
    )


@pytest.mark.parametrize("stream", [False, True], ids=["announced", "streamed"])
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_an_oversized_upload_from_a_browser_gets_the_html_page(
    vendor_app: FastAPI, server_app: FastAPI, name: str, lang: str, stream: bool
) -> None:
    client = TestClient(
        _app(name, vendor_app, server_app), raise_server_exceptions=False, follow_redirects=False
    )
    path = LOGIN_FORMS[name] if stream else PAGES[name]
    answer = _upload(client, path, accept=HTML, lang=lang, stream=stream)
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert "<html" in text.lower()
    assert TEXTS[lang] in text
    assert f'lang="{lang}"' in text


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("webmanager", "/api/v1/licenses"),
        ("console", "/console/offline-renewal"),
        ("portal", "/api/v1/offline-renewal"),
    ],
)
def test_api_paths_and_non_browsers_keep_the_json_413(
    vendor_app: FastAPI, server_app: FastAPI, name: str, path: str
) -> None:
    client = TestClient(_app(name, vendor_app, server_app), raise_server_exceptions=False)
    accept = "application/json" if path.startswith("/console") else HTML
    answer = _upload(client, path, accept=accept, lang="en", stream=False)
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert answer.json() == {"code": "request_too_large", "message": TEXTS["en"]}  # type: ignore[attr-defined]
