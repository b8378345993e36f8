"""A lost or swapped vendor key never passes unnoticed: the service refuses to start, and
says how to restore from a backup; a running service never makes new keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.helpers.processes import run_cssec

from cssec.vendor_service.keycheck import KeysUnavailable
from cssec.vendor_service.keyring import KeyringError
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services import issue_contract, rotate_keys
from cssec.vendor_service.settings import VendorSettings


def _vendor_with_a_contract(data: Path) -> str:
    vendor = open_vendor(VendorSettings(data_dir=data))
    try:
        with vendor.session() as session:
            return issue_contract(session, customer="鍵", seats=1, actor="t").codes["CS"]
    finally:
        vendor.close()


def test_a_fresh_service_makes_and_records_its_keys(tmp_path: Path) -> None:
    vendor = open_vendor(VendorSettings(data_dir=tmp_path))
    vendor.close()
    vendor = open_vendor(VendorSettings(data_dir=tmp_path))  # the second open agrees
    vendor.close()


def test_missing_keys_are_not_regenerated(tmp_path: Path) -> None:
    _vendor_with_a_contract(tmp_path)
    shutil.rmtree(tmp_path / "keys")
    with pytest.raises(KeysUnavailable) as raised:
        open_vendor(VendorSettings(data_dir=tmp_path))
    assert raised.value.error.code == "vendor_keys_missing"
    assert "cssec vendor restore" in raised.value.error.message("ja")
    assert not (tmp_path / "keys" / "hmac.json").exists()


def test_only_half_the_key_files_missing_is_noticed(tmp_path: Path) -> None:
    _vendor_with_a_contract(tmp_path)
    (tmp_path / "keys" / "signing.json").unlink()
    with pytest.raises(KeysUnavailable) as raised:
        open_vendor(VendorSettings(data_dir=tmp_path))
    assert raised.value.error.code == "vendor_keys_missing"


def test_another_vendors_keys_do_not_match(tmp_path: Path) -> None:
    _vendor_with_a_contract(tmp_path / "a")
    open_vendor(VendorSettings(data_dir=tmp_path / "b")).close()
    shutil.rmtree(tmp_path / "a" / "keys")
    shutil.copytree(tmp_path / "b" / "keys", tmp_path / "a" / "keys")
    with pytest.raises(KeysUnavailable) as raised:
        open_vendor(VendorSettings(data_dir=tmp_path / "a"))
    assert raised.value.error.code == "vendor_keys_mismatch"
    assert "HMAC kid 1" in raised.value.error.message("en")


def test_keys_older_than_a_rotation_do_not_match(tmp_path: Path) -> None:
    _vendor_with_a_contract(tmp_path)
    saved = tmp_path / "saved-keys"
    shutil.copytree(tmp_path / "keys", saved)
    vendor = open_vendor(VendorSettings(data_dir=tmp_path))
    try:
        with vendor.session() as session:
            rotate_keys(session, actor="t")
    finally:
        vendor.close()
    shutil.rmtree(tmp_path / "keys")
    shutil.copytree(saved, tmp_path / "keys")
    with pytest.raises(KeysUnavailable) as raised:
        open_vendor(VendorSettings(data_dir=tmp_path))
    assert "signing keys" in raised.value.error.message("en")


def test_keys_deleted_under_a_running_service_are_an_error_not_new_keys(tmp_path: Path) -> None:
    vendor = open_vendor(VendorSettings(data_dir=tmp_path))
    try:
        shutil.rmtree(tmp_path / "keys")
        vendor.keyring._loaded = None  # as after the recheck interval
        with pytest.raises(KeyringError):
            _ = vendor.keyring.signing_key
        assert not (tmp_path / "keys" / "signing.json").exists()
    finally:
        vendor.close()


def test_serve_refuses_with_the_way_out(tmp_path: Path) -> None:
    _vendor_with_a_contract(tmp_path)
    shutil.rmtree(tmp_path / "keys")
    refused = run_cssec("vendor", "--lang", "en", "serve", "--data", str(tmp_path), "--port", "1")
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert line.startswith("error: vendor_keys_missing:")
    assert "cssec vendor restore" in line
    assert len(line.splitlines()) == 1
