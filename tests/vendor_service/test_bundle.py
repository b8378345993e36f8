"""The vendor side of air-gapped bundles and of delta targets, on both databases: what a
bundle holds and whom it names, the refusals (no TUF root, a revoked code, after grace),
the audit row; and the pattern deltas the targets metadata publishes, made once per pair.
(Importing bundles and using deltas: tests/server/updates.)"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from tuf.api.metadata import Metadata, Targets

from cssec.core.clock import FakeClock
from cssec.core.errors import LicenseExpired, RevokedActivationCode
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate import publish_component
from cssec.vendor_service.activeupdate.bundle import BundleUnavailable, make_bundle
from cssec.vendor_service.activeupdate.deltas import INDEX_DIR
from cssec.vendor_service.activeupdate.services import store_of
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root, metadata_file, sync_repository
from cssec.vendor_service.models import AuditEntry
from cssec.vendor_service.runtime import Vendor

SEED = Path(services.__file__).resolve().parents[1] / "activeupdate_seed" / "virus_pattern.yar"
V2 = SEED.read_bytes() + b'rule Cssec_Bundle_V2 { strings: $a = "CSSEC-BUNDLE-V2" condition: $a }\n'


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        out = {}
        for member in tar:
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name] = handle.read()
        return out


def _root(vendor: Vendor, tmp_path: Path) -> None:
    init_root_keys(tmp_path / "root-keys", threshold=1, count=1)
    with vendor.session() as session:
        install_root(session, load_root_keys(tmp_path / "root-keys"))


def test_a_bundle_names_the_contract_and_holds_what_tuf_needs(
    vendor: Vendor, tmp_path: Path
) -> None:
    with vendor.session() as session:
        issued = services.issue_contract(
            session, customer="株式会社サンプル", seats=5, with_dcs=True, actor="t"
        )
        other = services.issue_contract(session, customer="他社", seats=5, actor="t")
        with pytest.raises(BundleUnavailable):
            make_bundle(session, issued.codes["CS"], actor="t")
    _root(vendor, tmp_path)
    with vendor.session() as session:
        publish_component(session, "virus_pattern", V2, actor="t")
        bundle = make_bundle(session, issued.codes["DCS"], actor="cli:staff")
    files = _members(bundle.data)
    assert {"bundle.json", "keys.json", "root-endorsement.json", "metadata/1.root.json",
            "metadata/timestamp.json"} <= set(files)  # fmt: skip
    targets = [n for n in files if n.startswith("targets/")]
    assert len(targets) == 5, "four components and the manifest, no deltas"
    keys = {k["kid"]: VerifyingKey.from_jwk(k) for k in json.loads(files["keys.json"])["keys"]}
    check = verify_statement(json.loads(files["bundle.json"]), keys)
    assert check.ok
    assert check.statement is not None
    statement = check.statement
    digest = {
        c: hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in issued.codes.values()
    }
    assert set(statement["codes"]) == set(digest.values()), "every code of the contract"
    other_digest = hashlib.sha256(other.codes["CS"].replace("-", "").encode()).hexdigest()
    assert other_digest not in statement["codes"]
    assert (
        statement["timestamp_sha256"]
        == hashlib.sha256(files["metadata/timestamp.json"]).hexdigest()
    )
    with vendor.session() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "component.bundled")
        ).all()
    assert [a.actor for a in audit] == ["cli:staff"]


def test_a_bundle_is_refused_as_a_download_would_be(
    vendor: Vendor, clock: FakeClock, tmp_path: Path
) -> None:
    _root(vendor, tmp_path)
    with vendor.session() as session:
        issued = services.issue_contract(
            session, customer="株式会社サンプル", seats=5, start=date(2026, 1, 1), actor="t"
        )
        revoked = services.issue_contract(session, customer="失効", seats=5, actor="t")
        services.revoke_code(session, revoked.codes["CS"], actor="t", reason="test")
        with pytest.raises(RevokedActivationCode):
            make_bundle(session, revoked.codes["CS"], actor="t")
    clock.set(clock.now().replace(year=2027, month=2, day=1))
    vendor.activeupdate.entitlements.clear()
    with vendor.session() as session, pytest.raises(LicenseExpired):
        make_bundle(session, issued.codes["CS"], actor="t")


def test_pattern_deltas_are_published_and_made_once(vendor: Vendor, tmp_path: Path) -> None:
    _root(vendor, tmp_path)
    with vendor.session() as session:
        publish_component(session, "virus_pattern", V2, actor="t")
        body = metadata_file(session, "2.targets.json")
    targets = Metadata[Targets].from_bytes(body).signed.targets
    delta = targets["deltas/virus_pattern/1-2"]
    assert delta.custom["from_version"] == 1
    assert delta.custom["to_sha256"] == targets["virus_pattern/virus_pattern.yar"].hashes["sha256"]
    blobs = store_of_vendor(vendor)
    index = blobs / INDEX_DIR
    made = {p.name: p.read_text() for p in index.iterdir()}
    assert list(made.values()) == [delta.hashes["sha256"]]
    stamp = (index / next(iter(made))).stat().st_mtime_ns
    with vendor.session() as session:
        assert sync_repository(session, lifetimes=None) is False
        # Re-signing the targets (a new root's keys) uses the delta already made.
        install_root(session, load_root_keys(tmp_path / "root-keys"),
                     old_keys=load_root_keys(tmp_path / "root-keys"))  # fmt: skip
    assert (index / next(iter(made))).stat().st_mtime_ns == stamp


def store_of_vendor(vendor: Vendor) -> Path:
    with vendor.session() as session:
        return store_of(session).blobs.root
