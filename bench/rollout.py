"""A fleet against one vendor: a staged rollout of a bad virus pattern is halted by the
servers' own health reports, then pulled; and the vendor's poll throughput with a rollout
active against none, in the same run.

Run: ``.venv/bin/python bench/rollout.py [--servers 1000] [--clients 10]``

One real vendor (its app in process, every request over HTTP through httpx's ASGI
transport; TUF root installed; timestamp lifetime shortened to 1 hour) and N simulated
servers, each a small asyncio task speaking the real protocol with real signatures: it
trusts the vendor's root.json, fetches timestamp → snapshot → targets as TUF orders them
and verifies each with the root's keys (`tuf.api.metadata`, Ed25519), reads the signed
rollout rule (`core.rollout`) and takes the candidate version only when its bucket is
admitted, downloads the chosen pattern by its SHA-256 and checks it, and posts its health
report signed with its own identity key (`core.health_report`, POST
/api/v1/activeupdate/health). What it skips of a real server: python-tuf's Updater itself
(the same checks, by hand), the manifest envelope's vendor signature, and YARA.

Each server has `--clients` simulated clients; on the bad version every one of them fails
to load it (they report at their next heartbeat, so a server's report of the new version
goes with its following poll). Servers poll hourly at a random minute (simulated time: a
FakeClock moved minute by minute; the vendor's scheduler pass `advance_rollouts` runs every
5 simulated minutes).

Figures: the fraction of servers that installed the bad version before the halt (goal
<= 2 %), the simulated time from `rollout pull` to the last server back on good content
(goal <= one timestamp lifetime, 1 h here), and full polls per second (timestamp, snapshot,
targets, each verified) with the rollout active against none (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from cssec.core.clock import FakeClock
from cssec.core.health_report import KIND
from cssec.core.rollout import RolloutRule, bucket
from cssec.core.signing import SigningKey, sign_statement
from cssec.vendor_service.activeupdate.rollout_service import (
    advance_rollouts,
    pull_rollout,
    show_rollouts,
)
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings
from http_load import machine_line

SEED = (
    Path(__file__).resolve().parents[1] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)
TUF = "/api/v1/tuf/"
PATTERN = "virus_pattern/virus_pattern.yar"
ROLLOUT_MANIFEST = "rollout/manifest.json"
ROLLOUT_PATTERN = "rollout/virus_pattern/virus_pattern.yar"
GOALS = {"installed_before_halt": 0.02, "pull_minutes": 60, "throughput_ratio": 0.9}


@dataclass
class SimServer:
    server_id: str
    key: SigningKey
    phase: int
    """The minute of the hour it polls at."""
    clients: int
    place: float = 0.0
    root: Root | None = None
    timestamp_version: int = 0
    snapshot_version: int = 0
    targets: Targets | None = None
    version: int = 1
    sha256: str = ""
    installed_at: datetime | None = None
    reported: dict[int, datetime] = field(default_factory=dict)
    """Versions its clients have reported on (after their next heartbeat)."""
    took_bad: bool = False

    def __post_init__(self) -> None:
        self.place = bucket(self.server_id)


class Fleet:
    def __init__(self, http: httpx.AsyncClient, code: str, clock: FakeClock) -> None:
        self.http, self.code, self.clock = http, code, clock
        self.requests = 0

    async def get(self, server: SimServer, path: str) -> bytes:
        headers = {"X-Cssec-Activation-Code": self.code, "X-Cssec-Server-Id": server.server_id}
        response = await self.http.get(path, headers=headers)
        self.requests += 1
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
        return response.content

    async def refresh(self, server: SimServer, *, full: bool = False) -> None:
        """TUF's order: timestamp, then snapshot and targets when they changed, each
        verified with the root's keys (and the version/hash the role above names)."""
        assert server.root is not None
        now = self.clock.now()
        ts = Metadata[Timestamp].from_bytes(await self.get(server, TUF + "timestamp.json"))
        server.root.verify_delegate("timestamp", ts.signed_bytes, ts.signatures)
        if ts.signed.is_expired(now) or ts.signed.version < server.timestamp_version:
            raise RuntimeError("timestamp expired or rolled back")
        server.timestamp_version = ts.signed.version
        meta = ts.signed.snapshot_meta
        if not full and meta.version == server.snapshot_version:
            return
        raw = await self.get(server, f"{TUF}{meta.version}.snapshot.json")
        meta.verify_length_and_hashes(raw)
        snap = Metadata[Snapshot].from_bytes(raw)
        server.root.verify_delegate("snapshot", snap.signed_bytes, snap.signatures)
        server.snapshot_version = meta.version
        tmeta = snap.signed.meta["targets.json"]
        raw = await self.get(server, f"{TUF}{tmeta.version}.targets.json")
        targets = Metadata[Targets].from_bytes(raw)
        server.root.verify_delegate("targets", targets.signed_bytes, targets.signatures)
        if targets.signed.version != tmeta.version or targets.signed.is_expired(now):
            raise RuntimeError("targets version or expiry")
        server.targets = targets.signed

    async def poll(self, server: SimServer) -> None:
        await self.refresh(server)
        assert server.targets is not None
        now = self.clock.now()
        chosen = server.targets.targets[PATTERN]
        candidate = server.targets.targets.get(ROLLOUT_MANIFEST)
        if candidate is not None:
            rule = RolloutRule.from_custom(candidate.custom["rollout"])
            if server.version == rule.version or rule.admits(server.place, now):
                chosen = server.targets.targets[ROLLOUT_PATTERN]
        version = int(chosen.custom["version"])
        if version > server.version:
            sha = chosen.hashes["sha256"]
            name = chosen.path.rpartition("/")
            data = await self.get(server, f"{TUF}targets/{name[0]}/{sha}.{name[2]}")
            chosen.verify_length_and_hashes(data)
            server.version, server.sha256, server.installed_at = version, sha, now
            server.took_bad = server.took_bad or sha != GOOD_SHA[0]
        else:
            server.reported.setdefault(server.version, now)  # its clients have heartbeaten
        await self.report(server, now)

    async def report(self, server: SimServer, now: datetime) -> None:
        if server.version not in server.reported:
            return
        good = server.sha256 == GOOD_SHA[0]
        hours = max(1, int((now - (server.installed_at or now)).total_seconds() // 3600))
        entry = {
            "component": "virus_pattern", "version": server.version, "clients": server.clients,
            "loaded": server.clients if good else 0,
            "load_failures": 0 if good else server.clients, "scans": server.clients * hours,
            "scan_errors": 0, "crashes": 0, "detections": 0, "quarantines": 0,
            "hours": server.clients * hours,
        }  # fmt: skip
        statement = {
            "v": 1, "kind": KIND, "server_id": server.server_id,
            "server_key": server.key.public.to_jwk(),
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "bucket": min(int(server.place * 100), 9999), "versions": [entry],
        }  # fmt: skip
        body = {"activation_code": self.code, "report": sign_statement(statement, server.key)}
        response = await self.http.post("/api/v1/activeupdate/health", json=body)
        self.requests += 1
        if response.status_code not in (200, 429):
            raise RuntimeError(f"health: {response.status_code} {response.text[:200]}")


GOOD_SHA = [""]


async def in_batches(work: list[Any], size: int = 64) -> None:
    for start in range(0, len(work), size):
        await asyncio.gather(*work[start : start + size])


async def throughput(fleet: Fleet, servers: list[SimServer], rounds: int = 3) -> float:
    """Full polls (timestamp, snapshot, targets; each verified) per second, every server.
    The best of `rounds` rounds (the machine is shared, and load only ever slows a round).
    Without a rollout it is measured before the publish and after the pull (the better of
    the two), so warming up does not favour either side."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        await in_batches([fleet.refresh(s, full=True) for s in servers])
        best = max(best, len(servers) / (time.perf_counter() - started))
    return best


async def minute(fleet: Fleet, servers: list[SimServer], vendor: Any, tick: int) -> None:
    fleet.clock.advance(timedelta(minutes=1))
    due = [s for s in servers if s.phase == tick % 60]
    await in_batches([fleet.poll(s) for s in due])
    if tick % 5 == 0:
        with vendor.session() as session:
            advance_rollouts(session)


def halted(vendor: Any) -> bool:
    with vendor.session() as session:
        return any(v.halted for v in show_rollouts(session))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    print(machine_line())
    rng = random.Random(args.seed)
    clock = FakeClock(datetime(2026, 12, 7, 0, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory(prefix="cssec-bench-rollout-") as tmp:
        root = Path(tmp)
        settings = VendorSettings(
            data_dir=root / "vendor", activeupdate_rate_limit="100000000/minute",
            tuf_timestamp_expiry_hours=1, rollout_health_min_interval_seconds=300,
        )  # fmt: skip
        vendor_app = create_vendor_app(settings, clock=clock)
        vendor = vendor_app.state.vendor
        transport = httpx.ASGITransport(app=vendor_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vendor.test") as http:
            init_root_keys(root / "root-keys", threshold=1, count=1)
            with vendor.session() as session:
                install_root(session, load_root_keys(root / "root-keys"))
                code = issue_contract(
                    session, customer="bench", seats=10, months=12, actor="bench"
                ).codes["CS"]
            good = (SEED / "virus_pattern.yar").read_bytes()
            GOOD_SHA[0] = hashlib.sha256(good).hexdigest()
            fleet = Fleet(http, code, clock)
            servers = [
                SimServer(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    SigningKey.generate(),
                    rng.randrange(60),
                    args.clients,
                )
                for _ in range(args.servers)
            ]
            trusted = await fleet.get(servers[0], TUF + "1.root.json")
            root_json = Metadata[Root].from_bytes(trusted)
            for server in servers:
                server.root = root_json.signed
                server.sha256 = GOOD_SHA[0]
            await in_batches([fleet.poll(s) for s in servers])  # first contact, v1 reported
            none = await throughput(fleet, servers)

            bad = good + b"\nrule Bench_Broken { condition: true }\n"
            with vendor.session() as session:
                publish_component(
                    session, "virus_pattern", bad, actor="bench",
                    rollout=RolloutPlan(rings=(1, 10, 50, 100), step_hours=6),
                )  # fmt: skip
            active = await throughput(fleet, servers)
            published_at = clock.now()
            print(f"published the bad pattern at {published_at:%H:%M} with rings 1,10,50,100")

            tick = 0
            while not halted(vendor) and tick < 60 * 24:
                tick += 1
                await minute(fleet, servers, vendor, tick)
            halt_minutes = tick
            took = sum(s.took_bad for s in servers)
            with vendor.session() as session:
                view = show_rollouts(session)[0]
                print(f"halted after {halt_minutes} min: {view.halt_reason}")
                print(f"health: {json.dumps(view.health.to_dict())}")
                pulled = pull_rollout(session, "virus_pattern", 2, actor="bench")
            pulled_at = clock.now()
            back: dict[str, datetime] = {}
            while len(back) < len(servers) and tick < halt_minutes + 60 * 6:
                tick += 1
                await minute(fleet, servers, vendor, tick)
                for s in servers:
                    if s.version >= pulled.component_version.version and s.server_id not in back:
                        back[s.server_id] = clock.now()
            assert all(s.sha256 == GOOD_SHA[0] for s in servers), "everyone on good content"
            pull_minutes = (max(back.values()) - pulled_at).total_seconds() / 60
            none = max(none, await throughput(fleet, servers))  # before and after: no rollout

    fraction = took / len(servers)
    ratio = active / none
    print(f"servers: {len(servers)}, clients each: {args.clients}, requests: {fleet.requests}")
    print(f"installed the bad version before the halt: {took} ({fraction:.2%}; goal <= 2 %)")
    print(f"pull to the last server on good content: {pull_minutes:.0f} simulated min "
          f"(goal <= one timestamp lifetime, 60 min)")  # fmt: skip
    print(f"full polls/s: none {none:.0f}, rollout active {active:.0f}, ratio {ratio:.2f} "
          f"(goal >= 0.9)")  # fmt: skip
    result = {
        "name": "staged rollout halted by health, then pulled",
        "servers": len(servers), "clients_per_server": args.clients,
        "installed_before_halt": round(fraction, 4), "halt_minutes": halt_minutes,
        "pull_minutes": round(pull_minutes, 1), "polls_per_s_none": round(none, 1),
        "polls_per_s_active": round(active, 1), "throughput_ratio": round(ratio, 3),
        "goals_met": fraction <= GOALS["installed_before_halt"]
        and pull_minutes <= GOALS["pull_minutes"] and ratio >= GOALS["throughput_ratio"],
    }  # fmt: skip
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
