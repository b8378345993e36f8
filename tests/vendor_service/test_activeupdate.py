"""ActiveUpdate on the vendor service, on both databases: seeded v1 components, the signed
manifest and its cache, publishing, and the entitlement check of both endpoints."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yara
from fastapi import FastAPI
from sqlalchemy import delete, func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.core.components import (
    COMPONENT_FILENAMES,
    Manifest,
    sha256_hex,
    verify_file,
    verify_manifest,
)
from cssec.core.errors import CssecError
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate import (
    current_manifest,
    ensure_seed_components,
    list_component_versions,
    publish_component,
)
from cssec.vendor_service.activeupdate.models import ComponentVersionRow
from cssec.vendor_service.activeupdate.services import SEED_DIR
from cssec.vendor_service.activeupdate.store import TTLCache
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.models import AuditEntry
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.settings import VendorSettings

SERVER = "srv-0001"
ENTITLEMENT_TTL = 60  # VendorSettings.activeupdate_entitlement_ttl's default
MANIFEST = "/api/v1/activeupdate/manifest"
# Built from two halves so this test file is never mistaken for the EICAR test file.
EICAR = (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()
SPYWARE_MARKER = ("CSSEC-SPYWARE-" + "TEST-SIGNATURE").encode()

VIRUS_V2 = b"""
rule EICAR_Test_File
{
    meta:
        threat = "Eicar_test_file"
    strings:
        $eicar = "X5O!P%@AP[4\\\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar at 0 and filesize <= 128
}

rule Cssec_Demo_Worm
{
    meta:
        threat = "Demo_worm"
    strings:
        $a = "CSSEC-DEMO-WORM"
    condition:
        $a
}
"""


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _code(app: FastAPI, **kwargs: Any) -> str:
    options: dict[str, Any] = {"customer": "株式会社サンプル", "seats": 25, "actor": "test"}
    options.update(kwargs)
    with _vendor(app).session() as session:
        return services.issue_contract(session, **options).codes["CS"]


def _manifest(client: TestClient, code: str, **headers: str) -> Any:
    return client.post(
        MANIFEST, json={"activation_code": code, "server_id": SERVER}, headers=headers
    )


def _file(client: TestClient, sha: str, code: str | None, **headers: str) -> Any:
    if code is not None:
        headers = {"X-Cssec-Activation-Code": code, "X-Cssec-Server-Id": SERVER, **headers}
    return client.get(f"/api/v1/activeupdate/files/{sha}", headers=headers)


def _keys(client: TestClient) -> dict[str, VerifyingKey]:
    jwks = client.get("/api/v1/keys").json()["keys"]
    return {k["kid"]: VerifyingKey.from_jwk(k) for k in jwks}


def _verified(client: TestClient, code: str) -> Manifest:
    response = _manifest(client, code)
    assert response.status_code == 200, response.text
    check = verify_manifest(response.json(), _keys(client))
    assert check.ok, check
    assert check.value is not None
    return check.value


def test_fresh_vendor_serves_version_1_of_all_four(app: FastAPI, client: TestClient) -> None:
    with _vendor(app).session() as session:
        codes = services.issue_contract(
            session, customer="株式会社サンプル", seats=25, actor="test", with_dcs=True
        ).codes
    code = codes["CS"]
    manifest = _verified(client, code)
    assert manifest.serial == 4
    assert set(manifest.components) == set(Component)
    for component, entry in manifest.components.items():
        assert entry.version == 1
        # The Damage Cleanup template comes with the Damage Cleanup Services code.
        dcs = component is Component.DAMAGE_CLEANUP_TEMPLATE
        response = _file(client, entry.sha256, codes["DCS"] if dcs else code)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["etag"] == f'"{entry.sha256}"'
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert verify_file(response.content, entry)
        assert sha256_hex(response.content) == entry.sha256
        assert response.content == (SEED_DIR / COMPONENT_FILENAMES[component]).read_bytes()
        again = _file(
            client, entry.sha256, codes["DCS"] if dcs else code,
            **{"If-None-Match": f'"{entry.sha256}"'},
        )  # fmt: skip
        assert (again.status_code, again.content) == (304, b"")
    # The manifest itself is dynamic: never cached by a proxy.
    assert _manifest(client, code).headers["cache-control"] == "no-store"


def test_seed_patterns_detect_the_test_files_and_not_clean_ones(
    app: FastAPI, client: TestClient
) -> None:
    code = _code(app)
    manifest = _verified(client, code)
    virus = _file(client, manifest.components[Component.VIRUS_PATTERN].sha256, code).content
    rules = yara.compile(source=virus.decode(), includes=False)
    hits = rules.match(data=EICAR)
    assert [m.rule for m in hits] == ["EICAR_Test_File"]
    assert hits[0].meta["threat"] == "Eicar_test_file"
    assert rules.match(data=EICAR + b"\r\n") != []
    assert rules.match(data=b"just a clean text file\n") == []
    assert rules.match(data=b"prefix " + EICAR) == []
    assert EICAR not in virus  # the pattern file is not itself the test file
    spyware = _file(client, manifest.components[Component.SPYWARE_PATTERN].sha256, code).content
    spy_rules = yara.compile(source=spyware.decode(), includes=False)
    assert [m.rule for m in spy_rules.match(data=b"xx" + SPYWARE_MARKER)] == ["Spyware_Test_File"]
    assert spy_rules.match(data=b"clean") == []


def test_publish_moves_serial_and_version_and_invalidates_the_cache(
    app: FastAPI, client: TestClient, settings: VendorSettings, clock: FakeClock
) -> None:
    code = _code(app)
    first = _manifest(client, code).json()
    clock.advance(timedelta(minutes=5))
    assert _manifest(client, code).json() == first  # cached: same signature, same issued_at
    # Published by another process (the CLI): its own runtime, its own cache.
    other = open_vendor(settings, clock=clock)
    try:
        with other.session() as session:
            published = publish_component(session, "virus_pattern", VIRUS_V2, actor="cli:test")
    finally:
        other.close()
    assert (published.serial, published.component_version.version) == (5, 2)
    # Seen at once: the other process rewrote the publish marker after its commit.
    manifest = _verified(client, code)
    assert manifest.serial == 5
    assert manifest.issued_at > Manifest.from_statement(first["statement"]).value.issued_at  # type: ignore[union-attr]
    versions = {c: e.version for c, e in manifest.components.items()}
    assert versions == {c: 2 if c is Component.VIRUS_PATTERN else 1 for c in Component}
    v2 = manifest.components[Component.VIRUS_PATTERN]
    assert _file(client, v2.sha256, code).content == VIRUS_V2
    old = first["statement"]["components"]["virus_pattern"]["sha256"]
    assert _file(client, old, code).status_code == 200  # older versions stay downloadable
    with _vendor(app).session() as session:
        audit = session.scalars(select(AuditEntry)).all()
        assert [(a.action, a.target, a.actor) for a in audit] == [
            ("contract.created", audit[0].target, "test"),
            ("component.published", "component:virus_pattern", "cli:test"),
        ]
        assert audit[1].before == {"version": 1, "sha256": old}
        assert audit[1].after == {
            "version": 2,
            "sha256": v2.sha256,
            "size": len(VIRUS_V2),
            "serial": 5,
        }
        # Rolling back is publishing the old file again, as version 3.
        seed = (SEED_DIR / "virus_pattern.yar").read_bytes()
        rolled = publish_component(session, "virus-pattern", seed, actor="t")
        assert (rolled.component_version.version, rolled.serial) == (3, 6)
        listed = list_component_versions(session, "virus_pattern")
        assert [v.version for v in listed] == [3, 2, 1]


def test_cache_is_keyed_by_serial_and_signing_key(vendor: Vendor) -> None:
    with vendor.session() as session:
        first = current_manifest(session)
        assert current_manifest(session) is first
        vendor.keyring.rotate()
        rotated = current_manifest(session)
    assert rotated["kid"] != first["kid"]
    assert rotated["statement"]["serial"] == first["statement"]["serial"]


@pytest.mark.parametrize(
    ("name", "data", "detail", "detail_ja"),
    [
        ("virus_pattern", b"rule broken { condition: }", "YARA", "YARAのコンパイルエラー「"),
        (
            "spyware_pattern",
            b'include "/etc/passwd"\nrule a { condition: true }',
            "includes",
            "YARAのコンパイルエラー「",
        ),
        ("virus_pattern", b"/* only a comment */", "no rule", "ルールが1つも定義されていません"),
        ("virus_pattern", b"\xff\xfe", "UTF-8", "UTF-8のテキストではありません"),
        ("scan_engine", b"{}", "unsupported format", "対応していない形式番号です"),
        (
            "damage_cleanup_template",
            b'{"format": 1, "rules": [{"threat": "X", "action": "explode"}],'
            b' "default_action": "quarantine"}',
            "rules[0].action",
            "項目の値が正しくありません「rules[0].action",
        ),
        ("damage_cleanup_template", b"", "empty", "ファイルが空です"),
    ],
)
def test_bad_component_files_are_refused_with_the_reason(
    vendor: Vendor, name: str, data: bytes, detail: str, detail_ja: str
) -> None:
    """The reason in the reader's language (YARA's own message quoted as it is)."""
    with vendor.session() as session:
        with pytest.raises(CssecError) as refused:
            publish_component(session, name, data, actor="t")
        assert refused.value.code == "invalid_component_file"
        assert detail in refused.value.message("en")
        assert "publish it again" in refused.value.message("en")
        assert detail_ja in refused.value.message("ja")
        assert "公開してください" in refused.value.message("ja")
        assert session.scalar(select(func.count(ComponentVersionRow.id))) == 4


def test_unknown_component_and_unchanged_file_are_refused(vendor: Vendor) -> None:
    seed = (SEED_DIR / "scan_engine.json").read_bytes()
    with vendor.session() as session:
        with pytest.raises(CssecError) as unknown:
            publish_component(session, "firewall", seed, actor="t")
        assert unknown.value.code == "unknown_component"
        with pytest.raises(CssecError) as unchanged:
            publish_component(session, "scan_engine", seed, actor="t")
        assert unchanged.value.code == "component_unchanged"
        assert "version 1" in unchanged.value.message("en")


def test_seeding_is_idempotent_and_heals_lost_seed_files(
    vendor: Vendor, settings: VendorSettings, clock: FakeClock
) -> None:
    blob = (
        settings.data_dir
        / "activeupdate"
        / sha256_hex((SEED_DIR / "scan_engine.json").read_bytes())
    )
    blob.unlink()
    again = open_vendor(settings, clock=clock)
    try:
        with again.session() as session:
            assert ensure_seed_components(session) == []
            assert session.scalar(select(func.count(ComponentVersionRow.id))) == 4
    finally:
        again.close()
    assert blob.is_file()


def test_concurrent_first_starts_seed_exactly_once(vendor: Vendor) -> None:
    with vendor.session() as session:
        session.execute(delete(ComponentVersionRow))
        session.commit()
    seeded: list[int] = []

    def seed() -> None:
        with vendor.session() as session:
            seeded.append(len(ensure_seed_components(session)))

    threads = [threading.Thread(target=seed) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seeded) == [0, 0, 4]
    with vendor.session() as session:
        versions = list_component_versions(session)
    assert [(v.component, v.version) for v in versions] == [(c, 1) for c in Component]


def test_concurrent_publishes_get_consecutive_versions(vendor: Vendor) -> None:
    errors: list[BaseException] = []

    def publish(marker: str) -> None:
        rule = f'rule R {{ strings: $a = "{marker}" condition: $a }}'.encode()
        try:
            with vendor.session() as session:
                publish_component(session, "spyware_pattern", rule, actor="t")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(f"M{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with vendor.session() as session:
        versions = list_component_versions(session, "spyware_pattern")
        manifest = current_manifest(session)
    assert [v.version for v in versions] == [4, 3, 2, 1]
    assert manifest["statement"]["serial"] == 7
    assert manifest["statement"]["components"]["spyware_pattern"]["version"] == 4


def test_grace_allows_and_after_grace_refuses_both_endpoints(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    code = _code(app, start=date(2026, 1, 1))  # ends 2026-12-31, CS grace 30 days
    sha = _verified(client, code).components[Component.SCAN_ENGINE].sha256
    clock.set(clock.now().replace(year=2027, month=1, day=30))  # last day of grace
    assert _manifest(client, code).status_code == 200
    assert _file(client, sha, code).status_code == 200
    clock.advance(timedelta(days=1))
    for response in (_manifest(client, code), _file(client, sha, code)):
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "license_expired"
        assert body["operation"] == "activeupdate_download"
        assert "猶予期間" in body["message"]
    english = _manifest(client, code, **{"Accept-Language": "en"}).json()
    assert "grace period have ended" in english["message"]
    assert "Renew" in english["message"]
    with _vendor(app).session() as session:
        services.renew_contract(session, code, actor="t")
    assert _manifest(client, code).status_code == 200  # a renewal lifts it at once


def test_revoked_garbage_unknown_and_missing_codes(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    code = _code(app)
    sha = _verified(client, code).components[Component.VIRUS_PATTERN].sha256
    garbage = _manifest(client, "not-a-code")
    assert (garbage.status_code, garbage.json()["code"]) == (400, "invalid_activation_code")
    bad_file = _file(client, sha, "not-a-code")
    assert (bad_file.status_code, bad_file.json()["code"]) == (400, "invalid_activation_code")
    missing = _file(client, sha, None, **{"Accept-Language": "en"})
    assert missing.status_code == 401
    assert missing.json()["code"] == "activation_code_required"
    assert "X-Cssec-Activation-Code" in missing.json()["message"]
    for unknown in ("0" * 64, "nothex", sha.upper()):
        response = _file(client, unknown, code)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    with _vendor(app).session() as session:
        services.revoke_code(session, code, actor="t", reason="leaked")
    clock.advance(timedelta(seconds=ENTITLEMENT_TTL))  # the entitlement cache's TTL
    for response in (_manifest(client, code), _file(client, sha, code)):
        assert (response.status_code, response.json()["code"]) == (403, "revoked_activation_code")


def test_a_revocation_reaches_activeupdate_within_the_entitlement_ttl(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    code = _code(app)
    assert _manifest(client, code).status_code == 200  # cached from here, per worker
    with _vendor(app).session() as session:
        services.revoke_code(session, code, actor="t", reason="leaked")
    # The status endpoint is never cached: refused at once.
    status = client.post("/api/v1/status", json={"activation_code": code, "server_id": SERVER})
    assert (status.status_code, status.json()["code"]) == (403, "revoked_activation_code")
    clock.advance(timedelta(seconds=ENTITLEMENT_TTL - 1))
    assert _manifest(client, code).status_code == 200  # still within the TTL
    clock.advance(timedelta(seconds=1))
    refused = _manifest(client, code)
    assert (refused.status_code, refused.json()["code"]) == (403, "revoked_activation_code")
    # A refusal is never cached as an entitlement: it stays refused.
    assert _manifest(client, code).status_code == 403


def test_entitlements_are_not_cached_with_a_zero_ttl(
    settings: VendorSettings, clock: FakeClock
) -> None:
    from cssec.vendor_service.app import create_app  # noqa: PLC0415

    app = create_app(settings.model_copy(update={"activeupdate_entitlement_ttl": 0}), clock=clock)
    try:
        client = TestClient(app)
        code = _code(app)
        assert _manifest(client, code).status_code == 200
        with _vendor(app).session() as session:
            services.revoke_code(session, code, actor="t", reason="leaked")
        assert _manifest(client, code).status_code == 403
    finally:
        app.state.vendor.close()


def test_rate_limited_per_ip(settings: VendorSettings, clock: FakeClock) -> None:
    limited = settings.model_copy(update={"activeupdate_rate_limit": "2/minute"})
    from cssec.vendor_service.app import create_app  # noqa: PLC0415

    app = create_app(limited, clock=clock)
    try:
        client = TestClient(app)
        assert [_manifest(client, "x").status_code for _ in range(3)] == [400, 400, 429]
        assert _file(client, "0" * 64, "x").status_code == 400  # its own counter
    finally:
        app.state.vendor.close()


def test_openapi_documents_both_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    manifest = paths[MANIFEST]["post"]["responses"]
    assert {"200", "400", "403", "422", "429"} <= set(manifest)
    assert {"license_expired", "revoked_activation_code"} <= set(
        manifest["403"]["content"]["application/json"]["examples"]
    )
    files = paths["/api/v1/activeupdate/files/{sha256}"]["get"]
    assert {"200", "304", "400", "401", "403", "404", "429"} <= set(files["responses"])
    assert "application/octet-stream" in files["responses"]["200"]["content"]
    headers = {p["name"] for p in files["parameters"] if p["in"] == "header"}
    assert headers == {"x-cssec-activation-code", "x-cssec-server-id"}


def test_cli_publish_and_list(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # Japanese is the default
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    data = str(tmp_path / "vendor")
    runner = CliRunner()
    pattern = tmp_path / "virus_pattern.yar"
    pattern.write_bytes(VIRUS_V2)
    published = runner.invoke(
        cli_app, ["component", "publish", "virus_pattern", str(pattern), "--data", data]
    )
    assert published.exit_code == 0, published.stderr
    assert "published virus_pattern version 2" in published.stdout
    assert "manifest serial 5" in published.stdout
    listed = runner.invoke(cli_app, ["component", "list", "--data", data])
    lines = listed.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("* virus_pattern")
    assert " v2 " in lines[0]
    assert lines[1].startswith("  virus_pattern")
    assert " v1 " in lines[1]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    refused = runner.invoke(
        cli_app, ["component", "publish", "scan_engine", str(broken), "--data", data]
    )
    assert refused.exit_code == 1
    assert "invalid_component_file" in refused.stderr
    assert "not JSON" in refused.stderr or "JSONとして読めません" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_ttl_cache_expires_bounds_and_distrusts_a_clock_going_back() -> None:
    clock = FakeClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    cache: TTLCache[int] = TTLCache(ttl_seconds=60, max_entries=2)
    cache.put("a", 1, clock.now())
    assert cache.get("a", clock.now() + timedelta(seconds=59)) == 1
    assert cache.get("a", clock.now() + timedelta(seconds=60)) is None
    assert len(cache) == 0  # a stale entry is dropped when met
    cache.put("a", 1, clock.now())
    assert cache.get("a", clock.now() - timedelta(seconds=1)) is None
    for key in ("a", "b", "c"):
        cache.put(key, 1, clock.now())
    assert (cache.get("a", clock.now()), len(cache)) == (None, 2)  # the oldest went
    off: TTLCache[int] = TTLCache(ttl_seconds=0)
    off.put("a", 1, clock.now())
    assert off.get("a", clock.now()) is None


def test_manifest_cache_is_fresh_for_a_second_unless_the_publish_marker_moved(
    clock: FakeClock,
) -> None:
    """What lets a worker skip the serial query: confirmed under a second ago (by the
    service clock; a vendor on another host sharing the database is seen within it) and
    the marker that publishes on this host rewrite after their commit unchanged."""
    from cssec.vendor_service.activeupdate.store import ManifestCache  # noqa: PLC0415

    cache = ManifestCache()
    envelope = {"signed": True}
    cache.put((5, "k1"), envelope, clock.now(), (1, 100))
    assert cache.fresh("k1", clock.now() + timedelta(milliseconds=999), (1, 100)) is envelope
    assert cache.fresh("k1", clock.now() + timedelta(seconds=1), (1, 100)) is None
    assert cache.fresh("k1", clock.now(), (2, 100)) is None  # a publish on this host
    assert cache.fresh("k2", clock.now(), (1, 100)) is None  # a new signing key
    assert cache.fresh("k1", clock.now() - timedelta(seconds=1), (1, 100)) is None  # clock back
    later = clock.now() + timedelta(seconds=5)
    assert cache.get((5, "k1"), later, (2, 100)) is envelope  # the serial read again
    assert cache.fresh("k1", later, (2, 100)) is envelope
