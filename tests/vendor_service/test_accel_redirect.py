"""Component files behind nginx (CSSEC_VENDOR_ACCEL_REDIRECT_PREFIX): after the license
check the vendor answers `X-Accel-Redirect` and no body; refusals are the documented ones,
as without the setting. The real nginx sending the file is in scale/test_nginx_nodes.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from tests.helpers.tuf import install_tuf_root

from cssec.core.clock import FakeClock
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate import current_manifest
from cssec.vendor_service.app import create_app
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.settings import VendorSettings

PREFIX = "/_cssec_files/"


def _code_and_sha(vendor: Vendor) -> tuple[str, str]:
    with vendor.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    with vendor.session() as session:  # a C/S Sec. code: not the Damage Cleanup template
        sha = current_manifest(session)["statement"]["components"]["virus_pattern"]["sha256"]
    return code, sha


def test_after_the_license_check_nginx_is_told_to_send_the_file(
    settings: VendorSettings, clock: FakeClock
) -> None:
    token = "scrape-" + "x" * 24
    app = create_app(
        settings.model_copy(
            update={"accel_redirect_prefix": PREFIX, "metrics_token": SecretStr(token)}
        ),
        clock=clock,
    )
    vendor: Vendor = app.state.vendor
    code, sha = _code_and_sha(vendor)
    headers = {"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"}
    url = f"/api/v1/activeupdate/files/{sha}"
    with TestClient(app) as client:  # the lifespan: the hot reader is open
        for _ in range(2):  # the database, then the worker's caches
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200
            assert answer.headers["x-accel-redirect"] == f"{PREFIX}{sha}"
            assert answer.content == b""  # nginx sends the bytes
            assert answer.headers["etag"] == f'"{sha}"'
            assert "immutable" in answer.headers["cache-control"]
            assert answer.headers["content-disposition"].startswith('attachment; filename="')
        cached = client.get(url, headers={**headers, "if-none-match": f'"{sha}"'})
        assert cached.status_code == 304
        assert "x-accel-redirect" not in cached.headers
        missing = client.get(url, headers={"x-cssec-server-id": "srv-1"})
        assert (missing.status_code, missing.json()["code"]) == (401, "activation_code_required")
        unknown = client.get(f"/api/v1/activeupdate/files/{'0' * 64}", headers=headers)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
        mistyped = code[:-1] + ("1" if code[-1] == "0" else "0")  # one symbol changed, always
        typo = client.get(url, headers={**headers, "x-cssec-activation-code": mistyped})
        assert typo.status_code == 400
        assert "x-accel-redirect" not in typo.headers
        clock.advance(timedelta(days=2000))  # long past the contract's end plus grace
        expired = client.get(url, headers=headers)
        assert (expired.status_code, expired.json()["code"]) == (403, "license_expired")
        assert "x-accel-redirect" not in expired.headers
        metrics = client.get("/metrics", headers={"authorization": f"Bearer {token}"}).text
    assert 'cssec_vendor_activeupdate_downloads_total{result="sent"} 2.0' in metrics
    assert 'cssec_vendor_activeupdate_downloads_total{result="not_modified"} 1.0' in metrics


def test_a_revoked_code_is_refused_even_when_its_entitlement_was_cached(
    settings: VendorSettings, clock: FakeClock
) -> None:
    app = create_app(
        settings.model_copy(
            update={"accel_redirect_prefix": PREFIX, "activeupdate_entitlement_ttl": 0}
        ),
        clock=clock,
    )
    vendor: Vendor = app.state.vendor
    code, sha = _code_and_sha(vendor)
    headers = {"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"}
    with TestClient(app) as client:
        url = f"/api/v1/activeupdate/files/{sha}"
        assert client.get(url, headers=headers).status_code == 200
        with vendor.session() as session:
            services.revoke_code(session, code, actor="t", reason="leaked")
        refused = client.get(url, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "revoked_activation_code")


def test_without_the_setting_the_app_sends_the_file(
    settings: VendorSettings, clock: FakeClock, tmp_path: Path
) -> None:
    app = create_app(settings, clock=clock)
    code, sha = _code_and_sha(app.state.vendor)
    with TestClient(app) as client:
        answer = client.get(
            f"/api/v1/activeupdate/files/{sha}",
            headers={"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"},
        )
    assert answer.status_code == 200
    assert "x-accel-redirect" not in answer.headers
    assert hashlib.sha256(answer.content).hexdigest() == sha


def test_tuf_targets_are_sent_by_nginx_too(
    settings: VendorSettings, clock: FakeClock, tmp_path: Path
) -> None:
    app = create_app(settings.model_copy(update={"accel_redirect_prefix": PREFIX}), clock=clock)
    vendor: Vendor = app.state.vendor
    install_tuf_root(vendor, tmp_path / "root-keys")
    code, sha = _code_and_sha(vendor)
    headers = {"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"}
    with TestClient(app) as client:
        answer = client.get(f"/api/v1/tuf/targets/virus_pattern/{sha}.x.yar", headers=headers)
        refused = client.get(f"/api/v1/tuf/targets/virus_pattern/{sha}.x.yar")
    assert answer.status_code == 200
    assert answer.headers["x-accel-redirect"] == f"{PREFIX}{sha}"
    assert answer.content == b""
    assert refused.status_code == 401
