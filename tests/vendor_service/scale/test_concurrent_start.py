"""N vendor nodes started at once on a fresh PostgreSQL database: one applies the
migrations, the others wait for it (an advisory lock, `cssec.web.db.upgrade_to_head`) and
find the schema at head, instead of racing to create the same tables."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from cssec.vendor_service.runtime import MIGRATIONS
from cssec.web.db import MIGRATION_LOCK, database_revisions, script_head, upgrade_to_head

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_database() -> Iterator[str]:
    base = os.environ.get("CSSEC_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CSSEC_TEST_POSTGRES_URL is not set")
    url = make_url(base)
    name = f"cssec_start_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


UPGRADE = """
import sys, time
from sqlalchemy import create_engine
from cssec.vendor_service.runtime import MIGRATIONS
from cssec.web.db import upgrade_to_head
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all at the same instant
upgrade_to_head(create_engine(sys.argv[1]), MIGRATIONS)
"""


def test_nodes_starting_together_migrate_once(empty_database: str) -> None:
    at = str(time.time() + 3)
    nodes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, empty_database, at],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [node.communicate(timeout=180)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0] * 4, "\n".join(outputs)
    engine = create_engine(empty_database)
    try:
        assert database_revisions(engine) == {script_head(MIGRATIONS)}
    finally:
        engine.dispose()


def test_a_node_waits_while_another_one_migrates(empty_database: str) -> None:
    """Deterministically: while the upgrade lock is held (another node migrating), a
    starting node waits, then finds the schema as the other one left it."""
    plain = make_url(empty_database).set(drivername="postgresql").render_as_string(False)
    engine = create_engine(empty_database)
    done = threading.Event()
    failed: list[BaseException] = []

    def start_node() -> None:
        try:
            upgrade_to_head(engine, MIGRATIONS)
        except BaseException as exc:
            failed.append(exc)
        done.set()

    try:
        with psycopg.connect(plain) as other:  # a transaction holding the lock
            other.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            thread = threading.Thread(target=start_node)
            thread.start()
            assert not done.wait(2), "migrated while another node held the upgrade lock"
        thread.join(timeout=120)
        assert done.is_set()
        assert failed == []
        assert database_revisions(engine) == {script_head(MIGRATIONS)}
    finally:
        engine.dispose()
