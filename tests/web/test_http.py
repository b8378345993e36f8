import sqlite3
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel
from sqlalchemy.exc import OperationalError

from cssec.core.errors import LicenseExpired, NotAuthenticated, RateLimited
from cssec.core.names import CUSTOMER_NAME, HOST_NAME, check_name
from cssec.web.http import (
    BodySizeLimitMiddleware,
    LanguageMiddleware,
    SecurityHeadersMiddleware,
    install_error_handlers,
)
from cssec.web.ratelimit import RateLimiter


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    limiter = RateLimiter()

    @app.post("/echo")
    def echo(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return payload

    @app.get("/refuse")
    def refuse() -> None:
        raise LicenseExpired()

    @app.get("/limited")
    def limited() -> dict[str, str]:
        limiter.hit("2/minute", "limited", "ip")
        return {"ok": "yes"}

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=1024)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LanguageMiddleware)
    return TestClient(app)


def test_errors_are_json_with_a_stable_code_in_the_request_language(client: TestClient) -> None:
    ja = client.get("/refuse")
    en = client.get("/refuse", headers={"Accept-Language": "en"})
    assert ja.status_code == en.status_code == 403
    assert ja.json()["code"] == en.json()["code"] == "license_expired"
    assert "更新" in ja.json()["message"]
    assert "Renew" in en.json()["message"]


def test_validation_errors_and_unknown_routes_keep_the_error_shape(client: TestClient) -> None:
    bad = client.post("/echo", content=b"not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    missing = client.get("/nope", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "Not found."}


def test_bodies_over_the_limit_are_refused_with_413(client: TestClient) -> None:
    ok = client.post("/echo", json={"a": "x" * 100})
    assert ok.status_code == 200
    too_big = client.post("/echo", json={"a": "x" * 5000})
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "request_too_large"

    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 500

    streamed = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_dynamic_responses_are_never_cached(client: TestClient) -> None:
    response = client.post("/echo", json={})
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_rate_limit_answers_429_with_retry_after(client: TestClient) -> None:
    assert client.get("/limited").status_code == 200
    assert client.get("/limited").status_code == 200
    refused = client.get("/limited")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_rate_limiter_raises_with_retry_after() -> None:
    limiter = RateLimiter()
    limiter.hit("1/hour", "k")
    with pytest.raises(RateLimited) as info:
        limiter.hit("1/hour", "k")
    assert info.value.fields["retry_after"] > 0
    limiter.hit("1/hour", "other")


def test_every_page_gets_a_strict_content_security_policy(client: TestClient) -> None:
    policy = client.post("/echo", json={}).headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    # No exemption for FastAPI's stock /docs (a CDN's script): the apps serve their own
    # (cssec.web.apidocs), whose page sets a policy of its own, kept by the middleware.
    assert client.get("/docs").headers["content-security-policy"] == policy


def _fault_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(
        app,
        service={"ja": "テストサービス", "en": "test service"},
        pages={"/html": lambda request, exc: PlainTextResponse(f"page: {exc.code}", 418)},
        challenges={"/basic": 'Basic realm="cssec", charset="UTF-8"'},
    )

    @app.get("/db")
    def db_down() -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    @app.get("/html/refuse")
    def html_refuse() -> None:
        raise LicenseExpired()

    @app.get("/basic/licenses")
    def basic() -> None:
        raise NotAuthenticated()

    @app.get("/other")
    def other() -> None:
        raise NotAuthenticated()

    @app.post("/named")
    def named(body: dict[str, Any] = Body(...)) -> dict[str, str]:
        return {"name": check_name(str(body.get("name", "")), HOST_NAME)}

    class Named(BaseModel):
        name: Annotated[str, AfterValidator(lambda v: check_name(v, CUSTOMER_NAME))]

    @app.post("/validated")
    def validated(body: Named) -> dict[str, str]:
        return {"name": body.name}

    app.add_middleware(LanguageMiddleware)
    return app


def test_faults_answer_json_503_and_500_in_the_request_language() -> None:
    client = TestClient(_fault_app(), raise_server_exceptions=False)
    down = client.get("/db")
    assert down.status_code == 503
    assert down.headers["retry-after"] == "30"
    assert down.json() == {
        "code": "service_unavailable",
        "message": "テストサービスが一時的に利用できません。"
        "しばらくしてからもう一度お試しください。",
    }
    bug = client.get("/bug", headers={"Accept-Language": "en"})
    assert bug.status_code == 500
    assert bug.json() == {
        "code": "internal_error",
        "message": "The test service ran into a problem. Try again shortly.",
    }


def test_pages_render_refusals_under_their_prefix_and_401s_carry_the_challenge() -> None:
    client = TestClient(_fault_app())
    page = client.get("/html/refuse")
    assert (page.status_code, page.text) == (418, "page: license_expired")
    challenged = client.get("/basic/licenses")
    assert challenged.status_code == 401
    assert challenged.headers["www-authenticate"] == 'Basic realm="cssec", charset="UTF-8"'
    assert "www-authenticate" not in client.get("/other").headers


def test_a_name_refused_by_a_validator_answers_with_its_own_error() -> None:
    client = TestClient(_fault_app())
    for path in ("/named", "/validated"):
        ja = client.post(path, json={"name": "pc\u202e01"})
        en = client.post(path, json={"name": "pc\x0001"}, headers={"Accept-Language": "en"})
        assert ja.status_code == en.status_code == 422
        assert ja.json()["code"] == en.json()["code"] == "invalid_name"
        assert "U+202E" in ja.json()["message"]
        assert "U+0000" in en.json()["message"]
    assert "顧客名" in client.post("/validated", json={"name": "a\u2066"}).json()["message"]
    c1 = client.post("/named", json={"name": "\x9b"}, headers={"Accept-Language": "en"})
    assert "host name" in c1.json()["message"]
