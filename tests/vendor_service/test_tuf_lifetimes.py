"""The TUF metadata lifetimes are vendor settings (`CSSEC_VENDOR_TUF_*_EXPIRY_*`): the
metadata a service signs expires when its settings say, and it is re-signed at half of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from cssec.core.clock import FakeClock
from cssec.vendor_service.activeupdate.lifetimes import DEFAULT_LIFETIMES, Lifetimes
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root, metadata_file, sync_repository
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.settings import VendorSettings


def test_the_defaults_are_one_day_a_week_ninety_days_a_year() -> None:
    settings = VendorSettings(data_dir=Path("/nonexistent"))
    assert Lifetimes.from_settings(settings) == DEFAULT_LIFETIMES
    assert DEFAULT_LIFETIMES.timestamp == timedelta(days=1)


def test_lifetimes_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSSEC_VENDOR_TUF_TIMESTAMP_EXPIRY_HOURS", "6")
    monkeypatch.setenv("CSSEC_VENDOR_TUF_ROOT_EXPIRY_DAYS", "730")
    lifetimes = Lifetimes.from_settings(VendorSettings(data_dir=Path("/nonexistent")))
    assert lifetimes.timestamp == timedelta(hours=6)
    assert lifetimes.root == timedelta(days=730)
    monkeypatch.setenv("CSSEC_VENDOR_TUF_TIMESTAMP_EXPIRY_HOURS", "0")
    with pytest.raises(ValidationError):
        VendorSettings(data_dir=Path("/nonexistent"))


def test_the_service_signs_with_the_configured_lifetimes(
    settings: VendorSettings, clock: FakeClock, tmp_path: Path
) -> None:
    configured = settings.model_copy(
        update={
            "tuf_timestamp_expiry_hours": 6,
            "tuf_snapshot_expiry_days": 2,
            "tuf_targets_expiry_days": 30,
            "tuf_root_expiry_days": 400,
        }
    )
    vendor = open_vendor(configured, clock=clock)
    try:
        keys = tmp_path / "root-keys"
        init_root_keys(keys, threshold=1, count=1)
        now = clock.now()
        with vendor.session() as session:
            install_root(session, load_root_keys(keys))
            expires = {
                "root": Metadata[Root].from_bytes(metadata_file(session, "root.json")),
                "timestamp": Metadata[Timestamp].from_bytes(
                    metadata_file(session, "timestamp.json")
                ),
                "snapshot": Metadata[Snapshot].from_bytes(
                    metadata_file(session, "1.snapshot.json")
                ),
                "targets": Metadata[Targets].from_bytes(metadata_file(session, "1.targets.json")),
            }
        lifetimes = {role: md.signed.expires - now for role, md in expires.items()}
        assert lifetimes["timestamp"] <= timedelta(hours=6)
        assert lifetimes["timestamp"] > timedelta(hours=5, minutes=59)
        assert timedelta(days=2) - lifetimes["snapshot"] < timedelta(seconds=1)
        assert timedelta(days=30) - lifetimes["targets"] < timedelta(seconds=1)
        assert timedelta(days=400) - lifetimes["root"] < timedelta(seconds=1)
        # Re-signed at half of six hours, not of one day.
        clock.advance(timedelta(hours=2))
        with vendor.session() as session:
            assert sync_repository(session) is False
        clock.advance(timedelta(hours=1, minutes=1))
        with vendor.session() as session:
            assert sync_repository(session) is True
            renewed = Metadata[Timestamp].from_bytes(metadata_file(session, "timestamp.json"))
        assert renewed.signed.version == 2
    finally:
        vendor.close()
