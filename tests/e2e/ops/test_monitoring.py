"""/healthz, /readyz and /metrics of real `serve` processes, scraped over HTTP and parsed
with prometheus_client's parser: the vendor with two workers (multi-process metrics), the
C/S Sec. server with its license slots."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.helpers.e2e_server import free_port, running_stack
from tests.helpers.processes import cssec_env, reaped, start_cssec, wait_answering

from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services import IssuedContract, issue_contract
from cssec.vendor_service.settings import VendorSettings


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def total(text: str, name: str, **labels: str) -> float:
    return sum(
        value
        for key, value in samples(text, name).items()
        if all(dict(key).get(k) == v for k, v in labels.items())
    )


@pytest.fixture
def vendor_process(tmp_path: Path) -> Iterator[tuple[str, IssuedContract]]:
    data = tmp_path / "vendor"
    vendor = open_vendor(VendorSettings(data_dir=data))
    try:
        with vendor.session() as session:
            contract = issue_contract(session, customer="監視", seats=5, actor="test")
    finally:
        vendor.close()
    port = free_port()
    env = cssec_env(
        CSSEC_VENDOR_STATUS_RATE_LIMIT="10000/minute",
        CSSEC_VENDOR_METRICS_TOKEN="scrape-" + "x" * 20,
    )
    log = tmp_path / "vendor.log"
    args = ["vendor", "serve", "--data", str(data), "--port", str(port), "--workers", "2"]
    with reaped(start_cssec(args, log, env)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_answering(f"{url}/healthz", process, log)
        yield url, contract


def test_vendor_metrics_sum_both_workers(vendor_process: tuple[str, IssuedContract]) -> None:
    url, contract = vendor_process
    code = contract.codes["CS"]
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/readyz").json() == {
            "status": "ready",
            "checks": {"database": "ok", "keys": "ok"},
        }
        registered = http.post(
            "/api/v1/registrations",
            json={
                "registration_key": contract.registration_key,
                "company": "監視",
                "contact_email": "ops@example.jp",
                "server_id": "srv-1",
            },
        )
        assert registered.status_code == 200
        checks = 40  # new connections each: both workers answer some
        for _ in range(checks):
            with httpx.Client(base_url=url, timeout=10) as fresh:
                answer = fresh.post(
                    "/api/v1/status",
                    json={"activation_code": code, "server_id": "srv-1",
                          "nonce": secrets.token_urlsafe(16)},
                )  # fmt: skip
                assert answer.status_code == 200
        assert (
            http.post(
                "/api/v1/status", json={"activation_code": "CS" + "0" * 29, "server_id": "srv-1"}
            ).status_code
            == 400
        )
        manifest = http.post(
            "/api/v1/activeupdate/manifest", json={"activation_code": code, "server_id": "srv-1"}
        ).json()
        sha = manifest["statement"]["components"]["virus_pattern"]["sha256"]
        headers = {"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"}
        assert http.get(f"/api/v1/activeupdate/files/{sha}", headers=headers).status_code == 200
        assert http.get(f"/api/v1/activeupdate/files/{sha}").status_code == 401
        scraped = http.get("/metrics")
        forwarded = http.get("/metrics", headers={"x-forwarded-for": "198.51.100.9"})
        with_token = http.get(
            "/metrics",
            headers={
                "x-forwarded-for": "198.51.100.9",
                "authorization": "Bearer scrape-" + "x" * 20,
            },
        )
    assert scraped.status_code == 200
    assert forwarded.status_code == 403
    assert forwarded.json()["code"] == "metrics_forbidden"
    assert with_token.status_code == 200
    text = scraped.text
    assert total(text, "cssec_vendor_status_checks_total", verdict="activated") == checks
    assert total(text, "cssec_vendor_status_checks_total", verdict="invalid") == 1
    assert total(text, "cssec_vendor_registrations_total", result="registered") == 1
    assert total(text, "cssec_vendor_activeupdate_downloads_total", result="sent") == 1
    assert total(text, "cssec_vendor_activeupdate_downloads_total", result="refused") == 1
    assert (
        total(text, "cssec_vendor_http_requests_total", route="/api/v1/status", status="200")
        == checks
    )
    assert (
        total(text, "cssec_vendor_http_request_duration_seconds_count", route="/api/v1/status")
        == checks + 1
    )
    routes = {dict(k)["route"] for k in samples(text, "cssec_vendor_http_requests_total")}
    assert "/api/v1/activeupdate/files/{sha256}" in routes
    assert not any(sha in route for route in routes)
    assert "cssec_vendor_outbox_depth" in text


def test_server_metrics_show_each_slot(tmp_path: Path) -> None:
    with (
        running_stack(tmp_path, tls=False) as stack,
        httpx.Client(base_url=stack.server_url, timeout=10) as http,
    ):
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").status_code == 200
        http.get("/login")
        text = http.get("/metrics").text
        assert http.get("/metrics", headers={"forwarded": "for=198.51.100.9"}).status_code == 403
    days = samples(text, "cssec_server_license_days_to_expiry")
    assert set(days) == {(("product", "CS"),), (("product", "DCS"),)}
    assert all(300 <= value <= 366 for value in days.values())
    state = samples(text, "cssec_server_license_state")
    assert state[(("product", "CS"), ("state", "activated"))] == 1
    assert state[(("product", "CS"), ("state", "expired"))] == 0
    assert total(text, "cssec_server_http_requests_total", route="/login") >= 1
