"""cssec.web.health: /healthz without I/O, /readyz 503 with the documented body."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cssec.web.health import ReadinessCheck, health_router
from cssec.web.http import LanguageMiddleware


def _broken() -> None:
    raise OSError("/secret/path is gone")


def _app(*checks: ReadinessCheck) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router(checks))
    app.add_middleware(LanguageMiddleware)
    return app


def test_healthz_answers_even_when_not_ready() -> None:
    probed: list[str] = []
    check = ReadinessCheck("database", lambda: probed.append("x"))
    with TestClient(_app(check)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
    assert probed == []  # no check ran


def test_readyz_ready() -> None:
    with TestClient(_app(ReadinessCheck("database", lambda: None))) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_names_the_failed_check_not_its_cause() -> None:
    app = _app(ReadinessCheck("database", lambda: None), ReadinessCheck("keys", _broken))
    with TestClient(app) as client:
        ja = client.get("/readyz")
        en = client.get("/readyz", headers={"accept-language": "en"})
    assert ja.status_code == en.status_code == 503
    assert ja.json()["code"] == "not_ready"
    assert ja.json()["checks"] == {"database": "ok", "keys": "failed"}
    assert "keys" in en.json()["message"]
    assert "確認" in ja.json()["message"]
    assert "/secret/path" not in ja.text
