"""cssec.web.metrics: who may read, route templates, the multi-process directory."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cssec.web.metrics import (
    MULTIPROC_ENV,
    UNMATCHED,
    HttpMetricsMiddleware,
    Metrics,
    full_template,
    may_read_metrics,
    metrics_router,
    multiprocess_dir,
)


def _scope(client: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "client": (client, 1234), "headers": headers or []}


def test_loopback_without_forwarding_may_read() -> None:
    assert may_read_metrics(_scope("127.0.0.1"), None)
    assert may_read_metrics(_scope("::1"), None)


def test_remote_or_forwarded_needs_the_token() -> None:
    assert not may_read_metrics(_scope("192.0.2.7"), None)
    assert not may_read_metrics(_scope("127.0.0.1", [(b"x-forwarded-for", b"192.0.2.7")]), None)
    assert not may_read_metrics(_scope("127.0.0.1", [(b"forwarded", b"for=192.0.2.7")]), None)
    assert not may_read_metrics(_scope("192.0.2.7", [(b"authorization", b"Bearer no")]), "yes")
    assert may_read_metrics(_scope("192.0.2.7", [(b"authorization", b"Bearer yes")]), "yes")
    assert not may_read_metrics({"type": "http", "headers": []}, None)


def test_full_template_adds_the_routers_prefixes() -> None:
    scope = {"path": "/api/v1/au/files/abc", "path_params": {"sha256": "abc"}}
    assert full_template(scope, "/files/{sha256}") == "/api/v1/au/files/{sha256}"
    assert full_template({"path": "/x/7", "path_params": {"n": 7}}, "/x/{n:int}") == "/x/{n:int}"


def _app(metrics: Metrics) -> FastAPI:
    app = FastAPI()
    inner = APIRouter(prefix="/items")

    @inner.get("/{item}")
    def item(item: str) -> dict[str, str]:
        return {"item": item}

    app.include_router(inner, prefix="/api")
    app.include_router(metrics_router(metrics, token=lambda: "t0ken", setting="X_TOKEN"))
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return app


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_requests_are_labelled_by_template_never_by_raw_path() -> None:
    metrics = Metrics("t")
    with TestClient(_app(metrics), client=("127.0.0.1", 1)) as client:
        for n in range(5):
            client.get(f"/api/items/{n}")
        client.get("/no/such/path")
        text = client.get("/metrics").text
    counts = _samples(text, "t_http_requests_total")
    key = (("method", "GET"), ("route", "/api/items/{item}"), ("status", "200"))
    assert counts[key] == 5
    assert counts[(("method", "GET"), ("route", UNMATCHED), ("status", "404"))] == 1
    assert not any("/api/items/1" in dict(k)["route"] for k in counts)


def test_remote_caller_is_refused_in_its_language() -> None:
    with TestClient(_app(Metrics("t")), client=("192.0.2.7", 1)) as client:
        refused = client.get("/metrics", headers={"accept-language": "en"})
        allowed = client.get("/metrics", headers={"authorization": "Bearer t0ken"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "metrics_forbidden"
    assert "X_TOKEN" in refused.json()["message"]
    assert allowed.status_code == 200


def test_multiprocess_dir_is_fresh_exported_and_removed() -> None:
    before = os.environ.get(MULTIPROC_ENV)
    with multiprocess_dir() as directory:
        assert os.environ[MULTIPROC_ENV] == str(directory)
        assert directory.is_dir()
        assert not any(directory.iterdir())
    assert not directory.exists()
    assert os.environ.get(MULTIPROC_ENV) == before
