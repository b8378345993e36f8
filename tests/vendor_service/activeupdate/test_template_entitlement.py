"""The Damage Cleanup template is sent only to a live Damage Cleanup Services code: the plain
file download, its nginx fast path, the TUF target download, the worker's entitlement cache
and the air-gapped bundle. Every other component keeps "any code of the contract"."""

from __future__ import annotations

import io
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.helpers.tuf import install_tuf_root

from cssec.core.clock import FakeClock
from cssec.core.components import COMPONENT_FILENAMES
from cssec.core.policy import Component
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate import current_manifest
from cssec.vendor_service.activeupdate.bundle import bundle_summary, make_bundle
from cssec.vendor_service.app import create_app
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.settings import VendorSettings

TEMPLATE = Component.DAMAGE_CLEANUP_TEMPLATE
FILES = "/api/v1/activeupdate/files/"


def _codes(vendor: Vendor, *, with_dcs: bool = True) -> dict[str, str]:
    with vendor.session() as session:
        issued = services.issue_contract(
            session, customer="ACME", seats=5, actor="t", with_dcs=with_dcs
        )
    return {str(product): code for product, code in issued.codes.items()}


def _sha(vendor: Vendor, component: Component) -> str:
    with vendor.session() as session:
        sha: str = current_manifest(session)["statement"]["components"][component.value]["sha256"]
    return sha


def _get(client: TestClient, url: str, code: str) -> Any:
    return client.get(url, headers={"x-cssec-activation-code": code, "x-cssec-server-id": "s-1"})


@pytest.fixture
def vendor(app: FastAPI) -> Vendor:
    found: Vendor = app.state.vendor
    return found


def test_a_cs_code_gets_every_component_but_the_template(
    vendor: Vendor, client: TestClient
) -> None:
    codes = _codes(vendor)
    for component in Component:
        answer = _get(client, FILES + _sha(vendor, component), codes["CS"])
        if component is TEMPLATE:
            assert answer.status_code == 403
            body = client.get(
                FILES + _sha(vendor, component),
                headers={"x-cssec-activation-code": codes["CS"], "accept-language": "ja"},
            ).json()
            assert body["code"] == "product_not_licensed"
            assert body["product"] == "DCS"
            assert "ウイルス感染復旧サービス" in body["message"]
            assert "ウイルス感染復旧テンプレート" in body["message"]
        else:
            assert answer.status_code == 200, (component, answer.text)


def test_the_dcs_code_gets_the_template(vendor: Vendor, client: TestClient) -> None:
    codes = _codes(vendor)
    answer = _get(client, FILES + _sha(vendor, TEMPLATE), codes["DCS"])
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].endswith(f'"{COMPONENT_FILENAMES[TEMPLATE]}"')


def test_the_english_refusal_names_the_product_and_the_way_out(
    vendor: Vendor, client: TestClient
) -> None:
    codes = _codes(vendor, with_dcs=False)
    answer = client.get(
        FILES + _sha(vendor, TEMPLATE),
        headers={"x-cssec-activation-code": codes["CS"], "accept-language": "en"},
    )
    assert answer.status_code == 403
    message = answer.json()["message"]
    assert "damage cleanup template" in message
    assert "Damage Cleanup Services" in message
    assert "Enter new code" in message


def test_a_revoked_or_expired_dcs_code_is_refused(
    vendor: Vendor, client: TestClient, clock: FakeClock
) -> None:
    revoked, expired = _codes(vendor), _codes(vendor)
    with vendor.session() as session:
        services.revoke_code(session, revoked["DCS"], actor="t", reason="leaked")
    url = FILES + _sha(vendor, TEMPLATE)
    answer = _get(client, url, revoked["DCS"])
    assert (answer.status_code, answer.json()["code"]) == (403, "revoked_activation_code")
    assert _get(client, url, revoked["CS"]).json()["code"] == "product_not_licensed"
    clock.advance(timedelta(days=2000))  # past the contract's end plus grace
    answer = _get(client, url, expired["DCS"])
    assert (answer.status_code, answer.json()["code"]) == (403, "license_expired")


def test_a_cached_cs_standing_does_not_authorize_the_template(
    vendor: Vendor, client: TestClient
) -> None:
    codes = _codes(vendor)
    virus = FILES + _sha(vendor, Component.VIRUS_PATTERN)
    template = FILES + _sha(vendor, TEMPLATE)
    assert _get(client, virus, codes["CS"]).status_code == 200  # now cached for this worker
    assert vendor.activeupdate.entitlements.get(_canonical(codes["CS"]), vendor.clock.now())
    for _ in range(2):
        answer = _get(client, template, codes["CS"])
        assert (answer.status_code, answer.json()["code"]) == (403, "product_not_licensed")
    assert _get(client, template, codes["DCS"]).status_code == 200
    assert _get(client, template, codes["DCS"]).status_code == 200  # from the cache


def _canonical(code: str) -> str:
    return code.replace("-", "")


def test_behind_nginx_the_template_needs_the_dcs_code_too(
    settings: VendorSettings, clock: FakeClock
) -> None:
    app = create_app(settings.model_copy(update={"accel_redirect_prefix": "/_f/"}), clock=clock)
    vendor: Vendor = app.state.vendor
    codes = _codes(vendor)
    url = FILES + _sha(vendor, TEMPLATE)
    with TestClient(app) as client:  # the lifespan: the hot reader's fast path
        for _ in range(2):  # the database, then the worker's caches
            refused = _get(client, url, codes["CS"])
            assert (refused.status_code, refused.json()["code"]) == (403, "product_not_licensed")
            assert "x-accel-redirect" not in refused.headers
            sent = _get(client, url, codes["DCS"])
            assert sent.status_code == 200
            assert "x-accel-redirect" in sent.headers


def test_the_tuf_target_of_the_template_needs_the_dcs_code(
    vendor: Vendor, client: TestClient, tmp_path: Path
) -> None:
    install_tuf_root(vendor, tmp_path / "root-keys")
    codes = _codes(vendor)
    sha = _sha(vendor, TEMPLATE)
    name = COMPONENT_FILENAMES[TEMPLATE]
    target = f"/api/v1/tuf/targets/{TEMPLATE.value}/{sha}.{name}"
    refused = _get(client, target, codes["CS"])
    assert (refused.status_code, refused.json()["code"]) == (403, "product_not_licensed")
    # The component is the file's own, whatever directory the path names.
    disguised = f"/api/v1/tuf/targets/{Component.VIRUS_PATTERN.value}/{sha}.x.yar"
    assert _get(client, disguised, codes["CS"]).json()["code"] == "product_not_licensed"
    assert _get(client, target, codes["DCS"]).status_code == 200
    virus = _sha(vendor, Component.VIRUS_PATTERN)
    assert (
        _get(client, f"/api/v1/tuf/targets/virus_pattern/{virus}.x.yar", codes["CS"]).status_code
        == 200
    )
    # The metadata stays open to any code of the contract.
    assert _get(client, "/api/v1/tuf/timestamp.json", codes["CS"]).status_code == 200


def test_the_openapi_document_names_the_refusal(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (FILES + "{sha256}", "/api/v1/tuf/targets/{path}"):
        examples = paths[path]["get"]["responses"]["403"]["content"]["application/json"]
        assert "product_not_licensed" in examples["examples"], path


def _members(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def test_a_bundle_carries_the_template_only_for_a_live_dcs_contract(
    vendor: Vendor, tmp_path: Path
) -> None:
    install_tuf_root(vendor, tmp_path / "root-keys")
    template = f"targets/{TEMPLATE.value}/{_sha(vendor, TEMPLATE)}."
    virus = f"targets/{Component.VIRUS_PATTERN.value}/{_sha(vendor, Component.VIRUS_PATTERN)}."
    cs_only, with_dcs, revoked = _codes(vendor, with_dcs=False), _codes(vendor), _codes(vendor)
    with vendor.session() as session:
        services.revoke_code(session, revoked["DCS"], actor="t", reason="leaked")
    for codes, carried in ((cs_only, False), (with_dcs, True), (revoked, False)):
        with vendor.session() as session:
            bundle = make_bundle(session, codes["CS"], actor="t")
        members = _members(bundle.data)
        assert any(m.startswith(virus) for m in members)
        assert any(m.startswith(template) for m in members) is carried, codes
        # The desk is told what it leaves out, and why (it said nothing).
        assert bundle.withheld == (() if carried else (TEMPLATE,))
        ja, en = bundle_summary(bundle, "ja"), bundle_summary(bundle, "en")
        said_ja = (
            "ウイルス感染復旧テンプレートはウイルス感染復旧サービスのライセンスが有効でないため"
        )
        assert (said_ja in ja) is not carried, ja
        assert ("without the damage cleanup template" in en) is not carried, en
