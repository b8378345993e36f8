"""The admin API on a real `cssec vendor serve`, driven as an integrator does: a token from
`cssec vendor token create`, JSON over HTTP, a bulk batch polled to its CSV, and a
revocation from the shell that the running service honours at its next request."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import httpx
from tests.helpers.e2e_server import free_port
from tests.helpers.processes import cssec_env, reaped, run_cssec, start_cssec, wait_answering


def test_an_integrator_drives_the_vendor_over_http(tmp_path: Path) -> None:
    data = str(tmp_path / "vendor")
    env = cssec_env(LANG="en_US.UTF-8")
    made = run_cssec(
        "vendor", "token", "create", "--name", "billing",
        "--scope", "contracts:read,contracts:write,bulk:write", "--expires", "30",
        "--data", data, env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}

    port = free_port()
    log = tmp_path / "vendor.log"
    args = ["vendor", "serve", "--data", data, "--port", str(port)]
    with reaped(start_cssec(args, log, env)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_answering(f"{url}/healthz", process, log)
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/api/v1/admin/contracts").json()["code"] == "api_token_required"
            body = {"customer": "株式会社プロセス", "seats": 5, "with_dcs": True}
            key = {**auth, "Idempotency-Key": "e2e-1"}
            created = http.post("/api/v1/admin/contracts", json=body, headers=key)
            assert created.status_code == 201, created.text
            retried = http.post("/api/v1/admin/contracts", json=body, headers=key)
            assert retried.json() == created.json()
            assert retried.headers["idempotent-replayed"] == "true"

            started = http.post(
                "/api/v1/admin/bulk-batches", json={"count": 50, "seats": 2}, headers=auth
            )
            assert started.status_code == 202, started.text
            job_url = started.headers["location"]
            deadline = time.monotonic() + 60
            while (job := http.get(job_url, headers=auth).json())["status"] in {
                "queued",
                "running",
            }:
                assert time.monotonic() < deadline, job
                time.sleep(0.1)  # a real process working: polled as an integrator polls
            assert job["status"] == "done", job
            result = http.get(job["result_url"], headers=auth)
            rows = list(csv.DictReader(io.StringIO(result.text)))
            assert len(rows) == 50
            assert len({r["registration_key"] for r in rows}) == 50

            revoked = run_cssec("vendor", "token", "revoke", "billing", "--data", data, env=env)
            assert revoked.returncode == 0, revoked.stderr
            refused = http.get(f"/api/v1/admin/contracts/{created.json()['id']}", headers=auth)
            assert refused.status_code == 401
            assert refused.json()["code"] == "api_token_revoked"

    listed = run_cssec("vendor", "token", "list", "--data", data, env=env)
    line = next(x for x in listed.stdout.splitlines() if x.startswith("billing"))
    assert "revoked" in line
    assert "last_used=-" not in line
    assert token not in listed.stdout
