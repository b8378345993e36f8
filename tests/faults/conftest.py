"""Fixtures of the fault tests: a fork server of the cssec CLI for the session, and one real
vendor process per module (`python -m cssec vendor serve` on a free loopback port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.helpers.faults import PASSWORD, Pool, World, start_vendor


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    running = Pool(tmp_path_factory.mktemp("jobs"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pool: Pool) -> Iterator[World]:
    root = tmp_path_factory.mktemp("faults")
    vendor = start_vendor(root / "vendor", root / "vendor.log")
    password_file = root / "admin.pw"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    try:
        yield World(pool=pool, vendor=vendor, root=root, password_file=password_file)
    finally:
        vendor.stop()
