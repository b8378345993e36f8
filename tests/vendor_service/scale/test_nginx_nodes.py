"""Two vendor nodes behind Debian's nginx, on one PostgreSQL database and one Redis, all as
real processes on loopback ports (issue #16).

Status checks, manifest and TUF polls and component downloads (X-Accel-Redirect: nginx sends the
file once the node checked the license) go through nginx from several threads at once.

- One node is killed outright (SIGKILL) mid-load: not one request fails (nginx sends what
  the dead node did not answer to the other one, `proxy_next_upstream ... non_idempotent`
  for the two POSTs: a status check or a manifest poll changes nothing but one history
  row, so sending it again is safe) and no status check is lost: every answered check has
  its history row (the nodes run with `status_log_durable`: a check is answered only once
  its row is committed), and none has two: a check whose row the dead node had committed
  without sending the answer is answered again by the other node with the same
  X-Request-Id (nginx's `$request_id`), and the second row is skipped. So the history
  holds exactly the checks made.
- A rolling restart with a migration applied: the database is one revision behind (the
  newest migration undone) while the surviving node serves, then under load the killed
  node starts again (applying the migration, as `serve` does at start), the other one is
  stopped (SIGTERM, graceful) and started again: not one request fails.
- The rate limits are shared through Redis: 8 registrations from one address through the
  balancer, limit 5/minute, answer exactly 3 times 429 (each node counting alone would
  let all 8 through).
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from tests.helpers.e2e_server import free_port
from tests.helpers.nginx import ACCEL_PREFIX, nginx_binary, running_nginx
from tests.helpers.processes import cssec_env, start_cssec, wait_answering
from tests.helpers.tuf import install_tuf_root

from cssec.core.license import Product
from cssec.vendor_service.activeupdate import current_manifest
from cssec.vendor_service.runtime import MIGRATIONS, open_vendor
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings
from cssec.web.db import database_revisions, script_head

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

REDIS = "redis://127.0.0.1:6379/11"
THREADS = 6


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A database of its own for this test (CREATE, then DROP … WITH (FORCE))."""
    base = os.environ.get("CSSEC_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CSSEC_TEST_POSTGRES_URL is not set")
    url = make_url(base)
    name = f"cssec_scale_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _require_redis() -> None:
    import redis  # noqa: PLC0415

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379 ({exc}); .ci/run starts it")


@dataclass
class Node:
    port: int
    data: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["vendor", "serve", "--data", str(self.data), "--port", str(self.port)]
        self.process = start_cssec(args, self.log, self.env)
        wait_answering(f"http://127.0.0.1:{self.port}/readyz", self.process, self.log)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: uvicorn finishes the requests in flight, then exits."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)

    def reap(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@dataclass
class Load:
    """Threads driving status checks, manifest polls and file downloads through nginx."""

    url: str
    code: str
    sha256: str
    client_ip: str
    phase: str
    tuf: bool = False  # TUF timestamp polls too
    status: bool = True  # status checks (they write the history)
    answered: list[str] = field(default_factory=list)  # server ids of answered checks
    failures: list[str] = field(default_factory=list)
    upstreams: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(THREADS):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def served_by(self, port: int) -> int:
        """Requests this node answered alone (not as a retry)."""
        with self._lock:
            return self.upstreams.get(f"127.0.0.1:{port}", 0)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline or self.failures:
                self.stop()
                raise AssertionError(f"load: condition not met; failures {self.failures[:5]}")
            time.sleep(0.05)

    def _note(self, response: httpx.Response) -> None:
        with self._lock:
            self.requests += 1
            upstream = response.headers.get("x-upstream", "?")
            self.upstreams[upstream] = self.upstreams.get(upstream, 0) + 1

    def _fail(self, what: str) -> None:
        with self._lock:
            self.failures.append(what)

    def _check(self, http: httpx.Client, server: str) -> None:
        answer = http.post(
            "/api/v1/status", json={"activation_code": self.code, "server_id": server}
        )
        self._note(answer)
        if answer.status_code == 200:
            with self._lock:
                self.answered.append(server)
        else:
            self._fail(f"status {answer.status_code} {answer.text[:200]}")

    def _run(self, n: int) -> None:
        headers = {"x-forwarded-for": self.client_ip}
        files = {**headers, "x-cssec-activation-code": self.code, "x-cssec-server-id": "srv"}
        with httpx.Client(base_url=self.url, timeout=30, headers=headers) as http:
            i = 0
            while not self._stop.is_set():
                i += 1
                server = f"{self.phase}-{n}-{i}"
                try:
                    if self.status:
                        self._check(http, server)
                    manifest = http.post(
                        "/api/v1/activeupdate/manifest",
                        json={"activation_code": self.code, "server_id": server},
                    )
                    self._note(manifest)
                    if manifest.status_code != 200:
                        self._fail(f"manifest {manifest.status_code} {manifest.text[:200]}")
                    if self.tuf:
                        timestamp = http.get("/api/v1/tuf/timestamp.json", headers=files)
                        self._note(timestamp)
                        if timestamp.status_code != 200:
                            self._fail(f"tuf {timestamp.status_code} {timestamp.text[:200]}")
                    if i % 4 == 0:
                        got = http.get(f"/api/v1/activeupdate/files/{self.sha256}", headers=files)
                        self._note(got)
                        if (
                            got.status_code != 200
                            or hashlib.sha256(got.content).hexdigest() != self.sha256
                        ):
                            self._fail(f"file {got.status_code} {got.text[:200]}")
                except httpx.HTTPError as exc:
                    self._fail(f"{type(exc).__name__}: {exc}")


def _history(database_url: str, phase: str) -> dict[str, int]:
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as conn:
        rows = conn.execute(
            "SELECT server_id, count(*) FROM status_checks WHERE server_id LIKE %s "
            "GROUP BY server_id",
            (f"{phase}-%",),
        ).fetchall()
    return dict(rows)


def _undo_newest_migration(database_url: str) -> str:
    """The database one revision behind the code (as before an upgrade); returns the head."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    head = script_head(MIGRATIONS)
    assert head is not None
    engine = create_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
        assert database_revisions(engine) != {head}
    finally:
        engine.dispose()
    return head


def test_two_nodes_behind_nginx_survive_a_kill_and_a_rolling_restart(
    tmp_path: Path, fresh_database: str
) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (.ci/run installs Debian's nginx)")
    _require_redis()
    data = tmp_path / "vendor"  # one host: both nodes share the keys and the files
    settings = VendorSettings(data_dir=data, database_url=fresh_database)
    vendor = open_vendor(settings)
    try:
        with vendor.session() as session:
            contract = issue_contract(session, customer="スケール", seats=5, actor="test")
        with vendor.session() as session:  # a file the C/S Sec. code may download
            components = current_manifest(session)["statement"]["components"]
        sha = components["virus_pattern"]["sha256"]
        install_tuf_root(vendor, tmp_path / "root-keys")
    finally:
        vendor.close()
    code = contract.codes[Product.CS]
    env = cssec_env(
        CSSEC_VENDOR_DATABASE_URL=fresh_database,
        CSSEC_VENDOR_RATE_LIMIT_STORAGE=REDIS,
        CSSEC_VENDOR_STATUS_RATE_LIMIT="1000000/minute",
        CSSEC_VENDOR_ACTIVEUPDATE_RATE_LIMIT="1000000/minute",
        CSSEC_VENDOR_REGISTRATION_RATE_LIMIT="5/minute",
        CSSEC_VENDOR_TRUSTED_PROXIES="127.0.0.1",
        CSSEC_VENDOR_STATUS_LOG_DURABLE="true",
        CSSEC_VENDOR_ACCEL_REDIRECT_PREFIX=ACCEL_PREFIX,
        CSSEC_VENDOR_BACKGROUND_JOBS="false",
        CSSEC_VENDOR_DATABASE_POOL_SIZE="4",
        CSSEC_VENDOR_HOT_POOL_SIZE="4",
    )
    a = Node(free_port(), data, env, tmp_path / "a.log")
    b = Node(free_port(), data, env, tmp_path / "b.log")
    client_ip = f"198.51.100.{random.randrange(1, 255)}"
    try:
        a.start()
        b.start()
        with running_nginx(
            tmp_path / "nginx",
            port=free_port(),
            upstreams=[a.port, b.port],
            files_root=data / "activeupdate",
        ) as nginx:
            # Shared limits: one address, 8 registrations, 5 allowed across both nodes.
            with httpx.Client(base_url=nginx.url, timeout=30) as http:
                ip = f"203.0.113.{random.randrange(1, 255)}"
                statuses = [
                    http.post(
                        "/api/v1/registrations",
                        json={"registration_key": "R" * 20, "company": "c",
                              "contact_email": "a@example.jp", "server_id": f"r{i}"},
                        headers={"x-forwarded-for": ip},
                    )
                    for i in range(8)
                ]  # fmt: skip
            assert [r.status_code == 429 for r in statuses].count(True) == 3, [
                (r.status_code, r.headers.get("x-upstream")) for r in statuses
            ]
            assert len({r.headers.get("x-upstream") for r in statuses}) == 2  # both nodes

            # The file through X-Accel-Redirect: nginx sends it, with the app's headers.
            with httpx.Client(base_url=nginx.url, timeout=30) as http:
                got = http.get(
                    f"/api/v1/activeupdate/files/{sha}",
                    headers={"x-cssec-activation-code": code, "x-cssec-server-id": "srv"},
                )
                refused = http.get(f"/api/v1/activeupdate/files/{sha}")
                direct = http.get(f"{ACCEL_PREFIX}{sha}")
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == sha
            assert got.headers["etag"] == f'"{sha}"'
            assert "immutable" in got.headers["cache-control"]
            assert got.headers["content-disposition"].startswith("attachment; filename=")
            assert "x-accel-redirect" not in got.headers
            assert refused.status_code == 401
            assert direct.status_code == 404  # internal: never reachable from outside

            # Kill a node mid-load.
            load = Load(nginx.url, code, sha, client_ip, "kill", tuf=True)
            load.start()
            load.wait_for(lambda: len(load.answered) >= 30 and load.served_by(a.port) > 0)
            a.kill()
            killed_at = len(load.answered)
            load.wait_for(lambda: len(load.answered) >= killed_at + 30)
            load.stop()
            assert load.failures == [], load.failures[:5]
            history = _history(fresh_database, "kill")
            lost = set(load.answered) - set(history)
            assert not lost, f"{len(lost)} answered checks without a history row"
            assert set(history) == set(load.answered)  # every checked server answered
            assert sum(history.values()) == len(load.answered)  # rows = checks made
            served = {u for u in load.upstreams if "," not in u}
            assert {f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"} <= served
            print(
                f"kill: {load.requests} requests, {len(load.answered)} status checks, "
                f"0 failed, {sum(history.values())} history rows; upstreams {load.upstreams}"
            )

            # A rolling restart with a migration applied. The database is put one revision
            # behind (the newest migration undone) while b serves manifest polls and file
            # downloads; a starts, applying it under that load. Only this code exists here,
            # and it needs the newest schema for what it writes, so status checks (history
            # rows) and TUF polls (the TUF table may be the one undone) wait until a has
            # migrated: in a real upgrade b would run the previous version, which the added
            # schema does not disturb.
            head = _undo_newest_migration(fresh_database)
            reads = Load(nginx.url, code, sha, client_ip, "migrate", status=False)
            reads.start()
            a.start()  # applies the newest migration while b serves
            # Back in nginx's rotation (a node marked failed is retried after fail_timeout)
            # before the other one goes: as the guide says.
            before = reads.served_by(a.port)
            reads.wait_for(lambda: reads.served_by(a.port) > before)
            load = Load(nginx.url, code, sha, client_ip, "roll")
            load.start()
            load.wait_for(lambda: len(load.answered) >= 10)
            reads.stop()
            assert reads.failures == [], reads.failures[:5]
            b.stop()
            b.start()
            before = load.served_by(b.port)
            load.wait_for(lambda: load.served_by(b.port) > before)
            load.stop()
            assert load.failures == [], load.failures[:5]
            engine = create_engine(fresh_database)
            try:
                assert database_revisions(engine) == {head}
            finally:
                engine.dispose()
            history = _history(fresh_database, "roll")
            assert set(history) == set(load.answered)
            assert sum(history.values()) == len(load.answered)
            print(
                f"rolling restart: {reads.requests} requests while migrating, then "
                f"{load.requests} requests, {len(load.answered)} status checks, 0 failed; "
                f"upstreams {load.upstreams}"
            )
    finally:
        a.reap()
        b.reap()
