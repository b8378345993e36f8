"""Every webhook event, end to end through a real HTTP receiver: each of the seven event
types arrives signed and verified (`standardwebhooks`), after its first post was answered
500 and the vendor was restarted before the retry: retried, never lost, the same
webhook-id on both posts, delivered once."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.helpers.webhook_receiver import Receiver, verify_at_fake_time, webhook_receiver

from cssec.core.clock import FakeClock
from cssec.core.license import grace_end
from cssec.vendor_service import services
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.scheduler import run_scheduled_work
from cssec.vendor_service.settings import VendorSettings

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Receiver]:
    verify_at_fake_time(monkeypatch, clock)
    with webhook_receiver() as found:
        found.secret = SECRET
        yield found


def _fail_then_restart(
    settings: VendorSettings, clock: FakeClock, receiver: Receiver, vendor: Vendor, count: int
) -> Vendor:
    """Deliver what is queued (`count` posts, each answered 500), restart the vendor, wait
    for the back-off and deliver again (answered 204)."""
    receiver.answers = [500] * count
    first = run_scheduled_work(vendor).deliveries
    assert [(d.ok, d.status_code) for d in first] == [(False, 500)] * count
    vendor.close()
    restarted = open_vendor(settings, clock=clock)
    clock.advance(timedelta(minutes=1))
    again = run_scheduled_work(restarted).deliveries
    assert [(d.ok, d.status_code) for d in again] == [(True, 204)] * count
    return restarted


def test_every_event_is_retried_after_a_500_across_a_restart_and_verified(
    settings: VendorSettings, clock: FakeClock, receiver: Receiver
) -> None:
    vendor = open_vendor(settings, clock=clock)
    try:
        with vendor.session() as session:
            services.add_webhook_endpoint(
                session, url=receiver.url, secret=SECRET, events=list(services.WEBHOOK_EVENTS),
                actor="t",
            )  # fmt: skip
            issued = services.issue_contract(
                session, customer="全イベント株式会社", seats=25, actor="t"
            )
            renewed = services.renew_contract(session, issued.contract_id, actor="t")
            spare = services.issue_replacement_code(session, issued.contract_id, actor="t")
            # The older code: revoking the newer one would revoke both (code lineage).
            services.revoke_code(session, issued.codes["CS"], actor="t", reason="test")
            services.issue_status_statement(session, spare, server_id="srv-1", seats_used=30)
        vendor.status_log.flush()
        vendor = _fail_then_restart(settings, clock, receiver, vendor, 5)

        clock.set(datetime.combine(renewed.end - timedelta(days=90), datetime.min.time(), UTC))
        vendor = _fail_then_restart(settings, clock, receiver, vendor, 1)
        after_grace = grace_end(renewed.end, 30) + timedelta(days=1)
        clock.set(datetime.combine(after_grace, datetime.min.time(), UTC))
        vendor = _fail_then_restart(settings, clock, receiver, vendor, 1)
        assert run_scheduled_work(vendor).deliveries == [], "nothing twice"
    finally:
        vendor.close()

    posts = receiver.received()
    by_id: dict[str, list[tuple[int, str]]] = {}
    for post in posts:
        assert post.error is None, post.error
        body = post.verified
        assert isinstance(body, dict)
        assert body["data"]["contract_id"] == issued.contract_id
        by_id.setdefault(post.headers["webhook-id"], []).append((post.status, body["type"]))
    # Every contract event; component.rollout_halted names no contract and is delivered in
    # tests/vendor_service/activeupdate/test_rollout_health.py.
    contract_events = [e for e in services.WEBHOOK_EVENTS if not e.startswith("component.")]
    assert sorted(kinds[0][1] for kinds in by_id.values()) == sorted(contract_events)
    for attempts in by_id.values():
        assert [status for status, _type in attempts] == [500, 204]
        assert attempts[0][1] == attempts[1][1]
