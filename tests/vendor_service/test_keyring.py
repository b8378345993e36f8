"""The key files: generated on first use, private, rotated without forgetting old keys."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cssec.core.clock import FakeClock
from cssec.vendor_service.keyring import RECHECK_SECONDS, Keyring, KeyringError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_generates_private_keys(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path / "keys")
    files = sorted(p.name for p in (tmp_path / "keys").iterdir() if p.name != ".lock")
    assert files == ["hmac.json", "signing-" + keyring.signing_key.kid + ".pem", "signing.json"]
    assert all(_mode(tmp_path / "keys" / f) == 0o600 for f in files)
    assert _mode(tmp_path / "keys") == 0o700
    assert keyring.current_mac_key.kid == 1
    assert len(keyring.current_mac_key.secret) == 32


def test_reopening_keeps_the_same_keys(tmp_path: Path) -> None:
    a = Keyring.open(tmp_path)
    b = Keyring.open(tmp_path)
    assert a.signing_key.kid == b.signing_key.kid
    assert a.mac_secrets == b.mac_secrets


def test_two_vendors_never_share_generated_keys(tmp_path: Path) -> None:
    a = Keyring.open(tmp_path / "a")
    b = Keyring.open(tmp_path / "b")
    assert a.signing_key.kid != b.signing_key.kid
    assert a.mac_secrets[1] != b.mac_secrets[1]


def test_rotate_adds_and_keeps(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path)
    old_kid, old_secret = keyring.signing_key.kid, keyring.mac_secrets[1]
    mac_kid, signing_kid = keyring.rotate()
    assert (mac_kid, keyring.current_mac_key.kid) == (2, 2)
    assert keyring.mac_secrets[1] == old_secret
    assert [k.kid for k in keyring.verifying_keys] == [signing_kid, old_kid]
    assert [k["kid"] for k in keyring.jwks()["keys"]] == [signing_kid, old_kid]
    assert all("d" not in k for k in keyring.jwks()["keys"])
    reopened = Keyring.open(tmp_path)
    assert reopened.signing_key.kid == signing_kid
    assert set(reopened.mac_secrets) == {1, 2}


def test_rotation_elsewhere_is_seen_within_the_recheck_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    serving = Keyring.open(tmp_path, clock=clock)
    old_kid = serving.signing_key.kid
    stats = 0
    real_stamp = Keyring._stamp

    def counting_stamp(self: Keyring) -> tuple[int, ...]:
        nonlocal stats
        stats += 1
        return real_stamp(self)

    monkeypatch.setattr(Keyring, "_stamp", counting_stamp)
    for _ in range(100):  # the hot path: no stat() of the key files on every use
        assert serving.signing_key.kid == old_kid
    assert stats == 0
    _mac, signing_kid = Keyring.open(tmp_path).rotate()  # another process (the CLI)
    clock.advance(timedelta(seconds=RECHECK_SECONDS / 2))
    assert serving.signing_key.kid == old_kid  # not looked at yet
    assert serving.current_mac_key.kid == 1
    clock.advance(timedelta(seconds=RECHECK_SECONDS / 2))
    assert serving.signing_key.kid == signing_kid  # at most one interval later
    assert serving.current_mac_key.kid == 2
    assert stats > 0


def test_a_clock_that_goes_back_rechecks(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    serving = Keyring.open(tmp_path, clock=clock)
    _mac, signing_kid = Keyring.open(tmp_path).rotate()
    clock.advance(timedelta(seconds=-5))
    assert serving.signing_key.kid == signing_kid


def test_own_rotation_is_seen_at_once(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    keyring = Keyring.open(tmp_path, clock=clock)
    _mac, signing_kid = keyring.rotate()
    assert keyring.signing_key.kid == signing_kid


def test_kid_space_is_bounded(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path)
    doc = json.loads((tmp_path / "hmac.json").read_text())
    doc["keys"]["31"] = "ab" * 32
    doc["current"] = 31
    (tmp_path / "hmac.json").write_text(json.dumps(doc))
    with pytest.raises(KeyringError):
        keyring.rotate()


def test_damaged_files_are_reported(tmp_path: Path) -> None:
    Keyring.open(tmp_path)
    (tmp_path / "hmac.json").write_text("{not json")
    with pytest.raises(KeyringError, match="damaged"):
        Keyring.open(tmp_path)
