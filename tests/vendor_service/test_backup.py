"""`cssec vendor backup|restore` on PostgreSQL (pg_dump / pg_restore), and the key check
after a restore."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from cssec.vendor_service.backup import backup_vendor, restore_vendor
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services import inspect_code, issue_contract
from cssec.vendor_service.settings import VendorSettings

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    base = os.environ.get("CSSEC_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CSSEC_TEST_POSTGRES_URL is not set")
    url = make_url(base)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    names = [f"cssec_backup_{secrets.token_hex(5)}" for _ in range(2)]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        a, b = (url.set(database=n).render_as_string(hide_password=False) for n in names)
        yield a, b
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgresql_backup_restores_into_an_empty_database(
    tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    source_url, target_url = two_databases
    source = VendorSettings(data_dir=tmp_path / "a", database_url=source_url)
    vendor = open_vendor(source)
    try:
        with vendor.session() as session:
            code = issue_contract(session, customer="PG", seats=3, actor="test").codes["CS"]
    finally:
        vendor.close()
    manifest = backup_vendor(source, tmp_path / "pg.backup", now=NOW)
    assert manifest["database"] == "postgresql"
    assert "database/database.pgdump" in {m["name"] for m in manifest["members"]}

    target = VendorSettings(data_dir=tmp_path / "b", database_url=target_url)
    restore_vendor(tmp_path / "pg.backup", target, key_file=tmp_path / "a" / "keys" / "backup.key")
    restored = open_vendor(target)  # the key check passes: same keys, same codes
    try:
        with restored.session() as session:
            assert inspect_code(session, code).verdict == "valid"
    finally:
        restored.close()
