"""N vendor nodes started at once on a fresh PostgreSQL database: one applies the
migrations, the others wait for it (an advisory lock, `cssec.web.db.upgrade_to_head`) and
find the schema at head, instead of racing to create the same tables."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from cssec.vendor_service.runtime import MIGRATIONS
from cssec.web.db import database_revisions, script_head, upgrade_to_head

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


def test_nodes_starting_together_migrate_once(empty_database: str) -> None:
    engines = [create_engine(empty_database) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def node(index: int) -> None:
        start.wait()
        try:
            upgrade_to_head(engines[index], MIGRATIONS)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert database_revisions(engines[0]) == {script_head(MIGRATIONS)}
    finally:
        for engine in engines:
            engine.dispose()
