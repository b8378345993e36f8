"""The vendor's rollout use cases on a real database (SQLite, and PostgreSQL when
CSSEC_TEST_POSTGRES_URL is set): what the signed targets and the manifest say during a
rollout, the schedule on a fake clock, the automatic halt from health reports (and its
webhook), pull, and the CLI's refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.tuf import install_tuf_root
from tuf.api.metadata import Metadata, Targets

from cssec.core.clock import FakeClock
from cssec.core.rollout import RolloutRule
from cssec.core.signing import SigningKey, sign_statement
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate.health_intake import take_health_report
from cssec.vendor_service.activeupdate.rollout_errors import RolloutNotActive, RolloutNotFound
from cssec.vendor_service.activeupdate.rollout_service import (
    advance_rollouts,
    halt_rollout,
    pull_rollout,
    resume_rollout,
    show_rollouts,
)
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import current_manifest, publish_component
from cssec.vendor_service.activeupdate.tuf_repo import metadata_file
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.runtime import Vendor

SEED = (
    Path(__file__).resolve().parents[3] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)
GOOD = (SEED / "virus_pattern.yar").read_bytes()
BAD = GOOD + b"\nrule Rollout_Test { condition: false }\n"


def _targets(vendor: Vendor) -> Targets:
    with vendor.session() as session:
        timestamp = Metadata.from_bytes(metadata_file(session, "timestamp.json"))
        snap_v = timestamp.signed.snapshot_meta.version  # type: ignore[attr-defined]
        snapshot = Metadata.from_bytes(metadata_file(session, f"{snap_v}.snapshot.json"))
        version = snapshot.signed.meta["targets.json"].version  # type: ignore[attr-defined]
        return (
            Metadata[Targets].from_bytes(metadata_file(session, f"{version}.targets.json")).signed
        )


def _rule(vendor: Vendor) -> RolloutRule | None:
    info = _targets(vendor).targets.get("rollout/manifest.json")
    return None if info is None else RolloutRule.from_custom(info.custom["rollout"])


def _serial(vendor: Vendor) -> int:
    with vendor.session() as session:
        return int(current_manifest(session)["statement"]["serial"])


def _report(vendor: Vendor, code: str, server: str, version: int, *, failures: int) -> None:
    key = SigningKey.generate()
    now = vendor.clock.now()
    entry = {
        "component": "virus_pattern", "version": version, "clients": 30, "loaded": 30 - failures,
        "load_failures": failures, "scans": 30, "hours": 30,
    }  # fmt: skip
    statement = {
        "v": 1, "kind": "component_health", "server_id": server,
        "server_key": key.public.to_jwk(), "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "bucket": 50, "versions": [entry],
    }  # fmt: skip
    with vendor.session() as session:
        take_health_report(session, code, sign_statement(statement, key))


def test_rings_in_the_signed_targets_follow_the_schedule(
    vendor: Vendor, clock: FakeClock, tmp_path: Path
) -> None:
    install_tuf_root(vendor, tmp_path / "root-keys")
    before = _serial(vendor)
    with vendor.session() as session:
        publish_component(
            session, "virus_pattern", BAD, actor="t", rollout=RolloutPlan((1, 10, 100), 2)
        )
    assert _serial(vendor) == before, "the current set keeps the previous version"
    targets = _targets(vendor).targets
    assert targets["virus_pattern/virus_pattern.yar"].custom["version"] == 1
    assert targets["rollout/virus_pattern/virus_pattern.yar"].custom["version"] == 2
    rule = _rule(vendor)
    assert rule is not None
    assert (rule.rings, rule.ring, rule.halted) == ((1, 10, 100), 0, False)
    clock.advance(timedelta(hours=2, minutes=1))
    with vendor.session() as session:
        assert advance_rollouts(session) == ["virus_pattern v2: ring (ring 1)"]
    assert _rule(vendor).ring == 1  # type: ignore[union-attr]
    clock.advance(timedelta(hours=4))
    with vendor.session() as session:
        assert advance_rollouts(session) == ["virus_pattern v2: completed (ring 1)"]
        assert show_rollouts(session)[0].state == "completed"
    assert _rule(vendor) is None
    assert _targets(vendor).targets["virus_pattern/virus_pattern.yar"].custom["version"] == 2
    assert _serial(vendor) > before


def test_failing_health_halts_by_itself_then_pull_goes_back_for_everyone(
    vendor: Vendor, clock: FakeClock, tmp_path: Path
) -> None:
    install_tuf_root(vendor, tmp_path / "root-keys")
    with vendor.session() as session:
        code = services.issue_contract(session, customer="r", seats=5, actor="t").codes["CS"]
        services.add_webhook_endpoint(
            session, url="https://hooks.example.com/r", secret="whsec_" + "B" * 40,
            events=["component.rollout_halted"], actor="t",
        )  # fmt: skip
        publish_component(
            session, "virus_pattern", BAD, actor="t", rollout=RolloutPlan((1, 100), 6)
        )
    _report(vendor, code, "srv-old", 1, failures=0)
    _report(vendor, code, "srv-a", 2, failures=1)  # 30 clients: fewer than 50, not judged yet
    with vendor.session() as session:
        assert advance_rollouts(session) == []
    _report(vendor, code, "srv-b", 2, failures=9)  # 60 clients, 10 / 60
    with vendor.session() as session:
        halted = advance_rollouts(session)
        assert len(halted) == 1
        assert "halted (load failures 16.7% of 60 clients" in halted[0]
        events = session.scalars(select(OutboxMessage.event)).all()
        assert events.count("component.rollout_halted") == 1
    rule = _rule(vendor)
    assert rule is not None
    assert rule.halted
    clock.advance(timedelta(days=2))
    with vendor.session() as session:
        assert advance_rollouts(session) == [], "a halted rollout does not move"
        view = resume_rollout(session, "virus_pattern", 2, actor="t")
        assert not view.halted
        halt_rollout(session, "virus_pattern", 2, actor="t", reason="by hand")
        pulled = pull_rollout(session, "virus_pattern", 2, actor="t")
        assert pulled.component_version.version == 3
        assert pulled.component_version.sha256 == services_sha(GOOD)
        with pytest.raises(RolloutNotActive):
            halt_rollout(session, "virus_pattern", 2, actor="t")
        with pytest.raises(RolloutNotFound):
            pull_rollout(session, "virus_pattern", 9, actor="t")
    assert _rule(vendor) is None
    assert _targets(vendor).targets["virus_pattern/virus_pattern.yar"].custom["version"] == 3


def services_sha(data: bytes) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(data).hexdigest()
