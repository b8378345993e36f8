"""The automatic status checks: local 00:00 on days 90/60/30/1/0 before the expiry, daily
after it, missed checks caught up, failures logged and backed off. The clock is stepped;
nothing sleeps."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient
from tests.helpers.server import TZ_NAME, Desk, Server, ServerFactory, SwitchableTransport

from cssec.core.clock import FakeClock
from cssec.core.signing import SigningKey
from cssec.server.licensing.scheduler import retry_after
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.tls.vendor import VendorTls

TOKYO = ZoneInfo(TZ_NAME)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TOKYO)


def status_calls(network: SwitchableTransport) -> int:
    return network.requests.count("POST /api/v1/status")


async def _installed(servers: ServerFactory, desk: Desk) -> tuple[Server, date, str]:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    return server, contract.end, contract.registration_key


async def test_checks_at_local_midnight_on_the_scheduled_days(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, _key = await _installed(servers, desk)
    calls = status_calls(network)

    clock.set(midnight(end - timedelta(days=90)) - timedelta(minutes=1))
    tick = await server.scheduler.run_due_checks()
    assert tick.outcomes == []
    assert tick.next_wakeup == midnight(end - timedelta(days=90))
    assert status_calls(network) == calls

    for before in (90, 60, 30):
        clock.set(midnight(end - timedelta(days=before)))
        tick = await server.scheduler.run_due_checks()
        assert [o.ok for o in tick.outcomes] == [True], before
        assert server.slot().last_success == clock.now()
        clock.advance(timedelta(hours=6))
        assert (await server.scheduler.run_due_checks()).outcomes == [], "once per day"
    assert status_calls(network) == calls + 3
    assert tick.next_wakeup == midnight(end - timedelta(days=1)), "the day before the expiry"
    clock.set(midnight(end - timedelta(days=1)))
    tick = await server.scheduler.run_due_checks()
    assert [o.ok for o in tick.outcomes] == [True]
    assert tick.next_wakeup == midnight(end)
    assert [e.details["actor"] for e in server.events("license.check_succeeded")] == [
        "scheduler"
    ] * 4


async def test_a_renewal_is_picked_up_by_the_scheduled_check(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server, end, key = await _installed(servers, desk)
    new_end = desk.renew(key)
    clock.set(midnight(end - timedelta(days=30)))
    tick = await server.scheduler.run_due_checks()
    assert tick.outcomes[0].new_expiry == new_end
    assert server.slot().expires_on == new_end
    assert tick.next_wakeup == midnight(new_end - timedelta(days=90))


async def test_a_check_missed_while_down_is_caught_up_at_start(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, key = await _installed(servers, desk)
    clock.set(midnight(end - timedelta(days=90)))
    await server.scheduler.run_due_checks()
    # The server is down across day -60 and comes back a week later.
    server.app.state.server.engine.dispose()
    desk.renew(key)
    clock.set(midnight(end - timedelta(days=53)) + timedelta(hours=9, minutes=30))
    restarted = servers.open(server.settings)
    tick = await restarted.scheduler.run_due_checks()
    assert [o.ok for o in tick.outcomes] == [True]
    [event] = restarted.events("license.check_caught_up")
    missed = midnight(end - timedelta(days=60))
    assert [datetime.fromisoformat(m) for m in event.details["missed"]] == [missed]
    assert missed.strftime("%Y-%m-%d 00:00") in event.message_ja
    assert restarted.slot().expires_on > end


async def test_a_failed_check_changes_nothing_and_backs_off(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, key = await _installed(servers, desk)
    desk.renew(key)
    network.mode = "down"
    clock.set(midnight(end - timedelta(days=90)))
    tick = await server.scheduler.run_due_checks()
    assert [o.ok for o in tick.outcomes] == [False]
    assert server.slot().expires_on == end
    assert tick.next_wakeup == clock.now() + timedelta(hours=1)
    [event] = server.events("license.check_failed")
    assert event.details["cause"] == "vendor_unreachable"
    assert event.details["actor"] == "scheduler"

    calls = len(network.requests)
    clock.advance(timedelta(minutes=30))
    assert (await server.scheduler.run_due_checks()).outcomes == []
    assert len(network.requests) == calls, "no retry inside the back-off"
    clock.advance(timedelta(minutes=30))
    assert [o.ok for o in (await server.scheduler.run_due_checks()).outcomes] == [False]
    assert server.slot().consecutive_failures == 2
    clock.advance(timedelta(hours=1))
    assert (await server.scheduler.run_due_checks()).outcomes == [], "now two hours"
    network.mode = "up"
    clock.advance(timedelta(hours=1))
    tick = await server.scheduler.run_due_checks()
    assert [o.ok for o in tick.outcomes] == [True]
    assert server.slot().consecutive_failures == 0
    assert server.slot().expires_on > end
    assert len(server.events("license.check_caught_up")) == 0, "a retry is not a catch-up"


async def test_bad_signature_is_logged_and_ignored(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, _key = await _installed(servers, desk)
    network.mode = "garbled"
    clock.set(midnight(end - timedelta(days=90)))
    await server.scheduler.run_due_checks()
    assert server.slot().expires_on == end
    [event] = server.events("license.check_failed")
    assert event.details["cause"] == "untrusted_statement"
    assert event.details["error"]["reason"] == "bad_signature"


async def test_daily_checks_in_grace_and_after(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, _key = await _installed(servers, desk)
    calls = status_calls(network)
    for offset in (0, 1, 2, 31, 32):
        clock.set(midnight(end + timedelta(days=offset)) + timedelta(seconds=1))
        tick = await server.scheduler.run_due_checks()
        assert [o.ok for o in tick.outcomes] == [True], offset
        assert tick.next_wakeup == midnight(end + timedelta(days=offset + 1))
    assert status_calls(network) == calls + 5


async def test_the_loop_waits_by_the_clock(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, end, _key = await _installed(servers, desk)
    clock.set(midnight(end - timedelta(days=90)) - timedelta(minutes=3))
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(timedelta(seconds=seconds))
        if len(waits) == 5:
            raise asyncio.CancelledError

    server.scheduler._sleep = fake_sleep
    calls = status_calls(network)
    with pytest.raises(asyncio.CancelledError):
        await server.scheduler.run_forever()
    assert waits[:3] == [60.0, 60.0, 60.0]
    assert status_calls(network) == calls + 1, "the midnight check ran once, on time"
    assert server.slot().last_success == midnight(end - timedelta(days=90))


def test_retry_back_off_doubles_to_a_day() -> None:
    base = timedelta(hours=1)
    assert [retry_after(base, n) for n in (0, 1, 2, 3)] == [
        base,
        base,
        2 * base,
        4 * base,
    ]
    assert retry_after(base, 40) == timedelta(days=1)


async def test_scheduler_runs_in_the_server_process(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    from cssec.server.app import create_app  # noqa: PLC0415

    app = create_app(settings, clock=clock, vendor_transport=servers.network)
    assert settings.online_checks

    def run() -> None:
        with TestClient(app) as client:
            assert client.get("/api/v1/health").json() == {"status": "ok"}
            assert app.state.scheduler._task is not None

    await asyncio.to_thread(run)
    assert app.state.scheduler._task is None


async def test_outgoing_calls_go_through_the_proxy_setting() -> None:
    """A loopback HTTP proxy sees the absolute-form request line."""
    seen: list[str] = []
    body = json.dumps({"keys": [SigningKey.generate().public.to_jwk()]}).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n", 1)[0].decode())
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    try:
        async with VendorClient(
            "http://vendor.invalid",
            proxy=f"http://127.0.0.1:{port}",
            timeout=5,
            tls=VendorTls(allow_http=True),  # plain HTTP through the proxy: --insecure-http
        ) as vendor:
            keys = await vendor.fetch_keys()
    finally:
        proxy.close()
        await proxy.wait_closed()
    assert len(keys) == 1
    assert seen == ["GET http://vendor.invalid/api/v1/keys HTTP/1.1"]
