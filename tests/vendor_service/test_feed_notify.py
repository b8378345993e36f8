"""N vendor nodes on one PostgreSQL database: a publish on one node is served by another at
once (LISTEN/NOTIFY, `cssec.vendor_service.feedwatch`), not after a polling interval; and
the durable status-check history (`StatusLog(durable=True)`): a check is answered only
once its row is committed."""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from tests.helpers.tuf import install_tuf_root

from cssec.core.clock import FakeClock
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.app import create_app
from cssec.vendor_service.models import StatusCheck
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services.status_log import StatusLog
from cssec.vendor_service.settings import VendorSettings

VIRUS_V2 = b'rule Feed_Notify_Test { strings: $a = "feed-notify-marker" condition: $a }\n'


def _settings(data_dir: Path, database_url: str | None, **extra: object) -> VendorSettings:
    return VendorSettings(
        data_dir=data_dir,
        database_url=database_url,
        rate_limit_storage="memory://",
        status_rate_limit="10000/minute",
        activeupdate_rate_limit="10000/minute",
        background_jobs=False,
        **extra,
    )


def _tuf_version(body: bytes) -> int:
    version: int = json.loads(body)["signed"]["version"]
    return version


def _serial(client: TestClient, code: str) -> int:
    answer = client.post(
        "/api/v1/activeupdate/manifest", json={"activation_code": code, "server_id": "srv-1"}
    )
    assert answer.status_code == 200, answer.text
    serial: int = answer.json()["statement"]["serial"]
    return serial


@pytest.mark.postgres
def test_a_publish_on_node_a_is_served_by_node_b_at_once(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    from tests.vendor_service.conftest import _truncate  # noqa: PLC0415

    _truncate(postgres_url)
    # Two nodes as two hosts: separate data directories (no shared marker file), the same
    # keys (copied, as an operator installs them) and the same database.
    app_a = create_app(_settings(tmp_path / "a", postgres_url), clock=clock)
    install_tuf_root(app_a.state.vendor, tmp_path / "root-keys")
    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")
    # The clock never moves: the cache's re-read interval never runs out, so only the
    # notification can tell node B.
    app_b = create_app(_settings(tmp_path / "b", postgres_url), clock=clock)
    vendor_a: Vendor = app_a.state.vendor
    vendor_b: Vendor = app_b.state.vendor
    with vendor_a.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    tuf_headers = {"x-cssec-activation-code": code, "x-cssec-server-id": "srv-1"}
    with TestClient(app_a) as client_a, TestClient(app_b) as client_b:
        assert vendor_b.activeupdate.feed.connected
        timestamp = client_b.get("/api/v1/tuf/timestamp.json", headers=tuf_headers)
        assert timestamp.status_code == 200, timestamp.text
        before = _serial(client_b, code)
        assert _serial(client_b, code) == before  # cached now
        assert _serial(client_a, code) == before
        with vendor_a.session() as session:
            published = publish_component(session, "virus_pattern", VIRUS_V2, actor="t")
        assert published.serial > before
        started = time.monotonic()
        seen = before
        while seen == before and time.monotonic() - started < 10:
            seen = _serial(client_b, code)
        assert seen == published.serial, "node B still serves the old manifest"
        # Delivered within the notification's own latency, far below any polling interval.
        assert time.monotonic() - started < 2
        # TUF: node B serves the timestamp node A signed for the publish (from the database).
        after = client_b.get("/api/v1/tuf/timestamp.json", headers=tuf_headers)
        assert after.status_code == 200
        assert _tuf_version(after.content) > _tuf_version(timestamp.content)
        # Node B's data directory never saw the file: only the database told it.
        assert not (tmp_path / "b" / "activeupdate" / published.component_version.sha256).exists()
    assert not vendor_b.activeupdate.feed.connected  # the lifespan closed it


@pytest.mark.postgres
def test_a_node_that_cannot_listen_falls_back_to_rereading(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    from tests.vendor_service.conftest import _truncate  # noqa: PLC0415

    _truncate(postgres_url)
    app_a = create_app(_settings(tmp_path / "a", postgres_url), clock=clock)
    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")
    app_b = create_app(
        _settings(tmp_path / "b", postgres_url, feed_listen=False, feed_recheck_seconds=5),
        clock=clock,
    )
    vendor_a: Vendor = app_a.state.vendor
    with vendor_a.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    with TestClient(app_b) as client_b:
        assert not app_b.state.vendor.activeupdate.feed.connected
        before = _serial(client_b, code)
        with vendor_a.session() as session:
            published = publish_component(session, "virus_pattern", VIRUS_V2, actor="t")
        assert _serial(client_b, code) == before  # not told: the cached one, for now
        clock.advance(timedelta(seconds=5))
        assert _serial(client_b, code) == published.serial
    app_a.state.vendor.close()


def _history(vendor: Vendor) -> int:
    with vendor.session() as session:
        return int(session.scalar(select(func.count()).select_from(StatusCheck)) or 0)


def test_durable_history_is_written_before_the_answer(
    tmp_path: Path, database_url: str | None, clock: FakeClock
) -> None:
    app = create_app(_settings(tmp_path / "v", database_url, status_log_durable=True), clock=clock)
    vendor: Vendor = app.state.vendor
    with vendor.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    with TestClient(app) as client:

        def check(i: int) -> int:
            return client.post(
                "/api/v1/status", json={"activation_code": code, "server_id": f"srv-{i}"}
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(check, range(40)))
        assert answers == [200] * 40
        # No flush: every answered check is already committed.
        assert vendor.status_log.pending() == 0
        assert _history(vendor) == 40


def test_a_failed_durable_batch_fails_its_requests_and_keeps_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no status_checks table
    log = StatusLog(engine, durable=True, interval=60)
    try:
        log.record({"activation_code_id": 1, "server_id": "s", "at": None, "state": "x",
                    "contract_end": None, "seats_used": None})  # fmt: skip
        waiter = log.barrier()
        assert waiter is not None
        with pytest.raises(Exception, match="status_checks"):
            waiter.result(timeout=10)  # the writer woke at once, not after `interval`
        assert log.pending() == 0  # dropped: its request failed, it was never answered
        done = log.barrier()
        assert done is not None
        assert done.result(timeout=1) is None
    finally:
        log.close()
        engine.dispose()


def test_without_durable_mode_nothing_waits(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    log = StatusLog(engine)
    try:
        assert log.barrier() is None
        log.wait_committed()
    finally:
        log.close()
        engine.dispose()


def test_a_check_retried_with_the_same_request_id_is_one_row(
    tmp_path: Path, database_url: str | None, clock: FakeClock
) -> None:
    """nginx sends a check the dying node never answered to another node with the same
    X-Request-Id: the history keeps one row. Without a trusted proxy the header is ignored."""
    behind = create_app(
        _settings(tmp_path / "v", database_url, status_log_durable=True, trusted_proxies="*"),
        clock=clock,
    )
    vendor: Vendor = behind.state.vendor
    with vendor.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    body = {"activation_code": code, "server_id": "srv-retried"}
    with TestClient(behind) as client:
        for _ in range(3):
            answer = client.post("/api/v1/status", json=body, headers={"x-request-id": "a1" * 16})
            assert answer.status_code == 200
        assert client.post("/api/v1/status", json=body).status_code == 200  # no id: a row
        bad = {"x-request-id": "x" * 65}  # not an id nginx makes: ignored, a row of its own
        assert client.post("/api/v1/status", json=body, headers=bad).status_code == 200
    assert _history(vendor) == 3


def test_without_a_trusted_proxy_the_request_id_is_ignored(
    tmp_path: Path, database_url: str | None, clock: FakeClock
) -> None:
    app = create_app(_settings(tmp_path / "v", database_url, status_log_durable=True), clock=clock)
    vendor: Vendor = app.state.vendor
    with vendor.session() as session:
        code = services.issue_contract(session, customer="ACME", seats=5, actor="t").codes[
            Product.CS
        ]
    with TestClient(app) as client:
        for _ in range(2):
            answer = client.post(
                "/api/v1/status",
                json={"activation_code": code, "server_id": "srv"},
                headers={"x-request-id": "same-id"},
            )
            assert answer.status_code == 200
    assert _history(vendor) == 2


@pytest.mark.postgres
def test_the_listen_connection_comes_back_after_it_is_lost(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    """PostgreSQL restarted (here: the LISTEN backend terminated): the worker re-reads the
    serial meanwhile, reconnects, and counts the gap as a possible publish."""
    from tests.vendor_service.conftest import _truncate  # noqa: PLC0415

    _truncate(postgres_url)
    app = create_app(_settings(tmp_path / "a", postgres_url), clock=clock)
    feed = app.state.vendor.activeupdate.feed
    plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with TestClient(app):
        assert feed.connected
        generation = feed.generation
        with psycopg.connect(plain, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = 'LISTEN cssec_feed'"
            ).fetchall()
        assert killed == [(True,)]
        deadline = time.monotonic() + 15
        while not (feed.connected and feed.generation > generation):
            assert time.monotonic() < deadline, "the LISTEN connection did not come back"
            time.sleep(0.05)
