"""Bytes a C/S Sec. server moves to update a virus pattern that grew by 1 %: through the
published delta, against the whole file, measured in the same run.

Run: ``.venv/bin/python bench/delta.py [--rules 20000] [--growth 0.01]``

Set-up, in one process (the vendor app and two servers, every request over HTTP to the
vendor's ASGI app through a transport that counts the response bodies): a TUF vendor
publishes a virus pattern of `--rules` YARA rules (about 3.2 MB at 20,000), both servers
install it, then the vendor publishes the next version with 1 % more rules inserted at
random places (and so a delta N → N+1). Server A holds N intact and takes the delta;
server B has lost its copy of N (removed from disk), so it must take the whole file,
exactly what every server did before deltas. Both updates fetch the same TUF metadata
(timestamp, snapshot, targets, the manifest target), counted too.

Clients too: each server has one client (the real client code, its requests carried into
the server app by starlette's TestClient, counted the same way) installed at N. After the
servers' updates, each client updates through its server's TUF mirror: client A holds N
intact and moves the delta its server kept; client B has lost its copy of N too, so it
moves the whole file (both servers keep the delta for their clients: server B fetched it
after the whole file).

Reported: the bytes of each update (all of it, and the pattern's own target alone), the
ratio delta / whole (goal, issue #13: <= 0.1), the same for the clients, and the time
`core.delta` takes to make the delta (at publish, on the vendor) and to apply it (on the
server). Most of a publish's and an update's time is YARA compiling the pattern, not the
delta.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from starlette.testclient import TestClient

from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.updater import update_components
from cssec.core.clock import FakeClock
from cssec.core.delta import apply_delta, make_delta
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey
from cssec.server.app import create_app as create_server_app
from cssec.server.licensing.install import InstallRequest, install_server
from cssec.server.licensing.trust import VendorTrust
from cssec.server.settings import ServerSettings
from cssec.server.tls.vendor import VendorTls
from cssec.vendor_service.activeupdate.services import publish_component
from cssec.vendor_service.activeupdate.tuf_keys import init_root_keys, load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.services import issue_contract
from cssec.vendor_service.settings import VendorSettings
from http_load import machine_line

GOAL = 0.1
PASSWORD = "bench password, long enough"
TZ = "Asia/Tokyo"
PATTERN = "/api/v1/tuf/targets/virus_pattern/"
DELTA = "/api/v1/tuf/targets/deltas/virus_pattern/"
CLIENT_PATTERN = "/api/v1/agent/tuf/targets/virus_pattern/"
CLIENT_DELTA = "/api/v1/agent/tuf/targets/deltas/virus_pattern/"


@dataclass
class Counting(httpx.AsyncBaseTransport):
    """The vendor's ASGI app, counting the bytes of every response body by path."""

    inner: httpx.AsyncBaseTransport
    bytes_by_path: list[tuple[str, int]] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.bytes_by_path.append((request.url.path, len(body)))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def since(self, mark: int, prefix: str = "") -> int:
        return sum(n for path, n in self.bytes_by_path[mark:] if path.startswith(prefix))


@dataclass
class ClientCounting(httpx.BaseTransport):
    """A client's requests into its server app (through a TestClient), counted by path."""

    http: TestClient
    bytes_by_path: list[tuple[str, int]] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.http.request(
            request.method,
            str(request.url),
            headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
            content=request.read(),
        )
        self.bytes_by_path.append((request.url.path, len(answer.content)))
        return httpx.Response(
            answer.status_code, headers=list(answer.headers.items()), content=answer.content
        )

    def since(self, mark: int, prefix: str = "") -> int:
        return sum(n for path, n in self.bytes_by_path[mark:] if path.startswith(prefix))


def rule(rng: random.Random, name: str) -> bytes:
    hexes = " ".join(f"{rng.getrandbits(8):02x}" for _ in range(16))
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
    return (
        f'rule {name}\n{{\n    strings:\n        $h = {{ {hexes} }}\n        $t = "{text}"\n'
        f"    condition:\n        $h or $t\n}}\n"
    ).encode()


def patterns(rules: int, growth: float) -> tuple[bytes, bytes]:
    rng = random.Random(20261203)
    old = [rule(rng, f"Bench_{i}") for i in range(rules)]
    new = list(old)
    for i in range(max(1, int(rules * growth))):
        new.insert(rng.randrange(len(new) + 1), rule(rng, f"Bench_New_{i}"))
    return b"".join(old), b"".join(new)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=20_000)
    parser.add_argument("--growth", type=float, default=0.01)
    args = parser.parse_args()
    print(machine_line())
    old, new = patterns(args.rules, args.growth)
    print(f"pattern N: {len(old):,} bytes, {args.rules:,} rules; N+1: {len(new):,} bytes "
          f"(+{(len(new) - len(old)) / len(old):.2%})")  # fmt: skip
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with tempfile.TemporaryDirectory(prefix="cssec-bench-delta-") as tmp:
        root = Path(tmp)
        vendor_app = create_vendor_app(VendorSettings(data_dir=root / "vendor"), clock=clock)
        vendor = vendor_app.state.vendor
        counting = Counting(httpx.ASGITransport(app=vendor_app))
        try:
            init_root_keys(root / "root-keys", threshold=1, count=1)
            with vendor.session() as session:
                install_root(session, load_root_keys(root / "root-keys"))
                publish_component(session, "virus_pattern", old, actor="bench")
                code = issue_contract(
                    session, customer="bench", seats=10, months=12, actor="bench"
                ).codes["CS"]
            current = VerifyingKey.from_jwk(vendor.keyring.jwks()["keys"][0])
            servers = []
            for name in ("a", "b"):
                settings = ServerSettings(data_dir=root / name, timezone=TZ)
                await install_server(
                    InstallRequest(
                        data_dir=settings.data_dir, vendor_url="http://vendor.test",
                        admin_password=PASSWORD, activation_code=code,
                        trust=VendorTrust(fingerprints=(current.fingerprint,)),
                        vendor_tls=VendorTls(allow_http=True),
                    ),
                    clock=clock, tz=ZoneInfo(TZ), transport=counting,
                )  # fmt: skip
                app = create_server_app(
                    settings, clock=clock, vendor_transport=counting, start_scheduler=False
                )
                outcome = await app.state.component_poller.update_now(actor="bench")
                assert outcome.ok, outcome.message
                servers.append(app)
            clients = []
            for name, app in zip(("a", "b"), servers, strict=True):
                http = TestClient(app, base_url="http://server.test", client=("127.0.0.1", 50_000))
                state = ClientState(root / f"client-{name}")
                transport = ClientCounting(http)
                installed = install_client(
                    state, server_url="http://server.test", route="autopcc",
                    install_token=None, clock=clock, lang="en", transport=transport,
                )  # fmt: skip
                assert installed.update_error is None, installed.update_error
                clients.append((state, transport))
            with vendor.session() as session:
                publish_component(session, "virus_pattern", new, actor="bench")
            lost = root / "b" / "components" / "virus_pattern"
            for held in lost.glob("*/virus_pattern.yar"):
                if held.read_bytes() == old:
                    held.unlink()  # server B cannot use a delta: the whole file, as before
            moved, plain = {}, {}
            for name, app in zip(("delta", "whole"), servers, strict=True):
                mark = len(counting.bytes_by_path)
                outcome = await app.state.component_poller.update_now(actor="bench")
                assert outcome.result == "success", outcome.message
                pattern = counting.since(mark, PATTERN) + counting.since(mark, DELTA)
                moved[name] = (counting.since(mark), pattern)
                plain[name] = counting.since(mark, PATTERN)
            lost_b = clients[1][0]
            held_b = lost_b.load_installed().current[Component.VIRUS_PATTERN]
            lost_b.component_path(held_b).unlink()  # client B cannot use the delta: whole
            client_moved = {}
            for name, (state, transport) in zip(("delta", "whole"), clients, strict=True):
                mark = len(transport.bytes_by_path)
                with agent_for(state.load_config(), lang="en", transport=transport) as agent:
                    done = update_components(state, agent, clock=clock, lang="en")
                assert done.result == "success", done
                pattern = transport.since(mark, CLIENT_PATTERN) + transport.since(
                    mark, CLIENT_DELTA
                )
                client_moved[name] = (transport.since(mark), pattern)
                transport.http.close()
            for app in servers:
                app.state.server.engine.dispose()
        finally:
            vendor.close()
    started = time.perf_counter()
    delta = make_delta(old, new)
    make_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assert apply_delta(delta, old) == new
    apply_seconds = time.perf_counter() - started
    (delta_total, delta_pattern), (whole_total, whole_pattern) = moved["delta"], moved["whole"]
    whole_plain = plain["whole"]
    print(
        f"update through the delta:   {delta_total:>10,} bytes (pattern target {delta_pattern:,})"
    )
    print(
        f"update with the whole file: {whole_total:>10,} bytes (pattern target {whole_pattern:,})"
    )
    print(f"  (of which {whole_pattern - whole_plain:,} bytes: the delta it keeps for its clients)")
    ratio = delta_total / whole_total
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"ratio delta / whole, whole update: {ratio:.4f} ({verdict} the goal <= {GOAL})")
    print(f"ratio delta / whole, pattern target alone: {delta_pattern / whole_pattern:.4f}")
    (c_delta_total, c_delta_pattern), (c_whole_total, c_whole_pattern) = (
        client_moved["delta"],
        client_moved["whole"],
    )
    print(f"client update through its server's delta: {c_delta_total:>10,} bytes "
          f"(pattern target {c_delta_pattern:,})")  # fmt: skip
    print(f"client update with the whole file:        {c_whole_total:>10,} bytes "
          f"(pattern target {c_whole_pattern:,})")  # fmt: skip
    c_ratio = c_delta_total / c_whole_total
    c_verdict = "meets" if c_ratio <= GOAL else "MISSES"
    print(f"client ratio delta / whole, whole update: {c_ratio:.4f} "
          f"({c_verdict} the goal <= {GOAL})")  # fmt: skip
    print(f"client ratio delta / whole, pattern target alone: "
          f"{c_delta_pattern / c_whole_pattern:.4f}")  # fmt: skip
    print(f"making the delta: {make_seconds:.2f} s; applying it: {apply_seconds * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
