"""Notices and webhooks with real parts: an SMTP server (aiosmtpd) and an HTTP receiver on
loopback ports, signatures checked with `standardwebhooks`, time moved with the fake clock."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import standardwebhooks.webhooks as swh
from sqlalchemy import func, select
from standardwebhooks import Webhook
from tests.helpers.smtp_sink import Mailbox, smtp_sink
from tests.helpers.webhook_receiver import Received, Receiver, webhook_receiver

from cssec.core.clock import FakeClock
from cssec.core.errors import RevokedActivationCode
from cssec.vendor_service import services
from cssec.vendor_service.errors import InvalidContractTerms, InvalidWebhookEndpoint
from cssec.vendor_service.models import Customer, DeliveryAttempt, OutboxMessage
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.scheduler import BackgroundJobs, run_scheduled_work
from cssec.vendor_service.sender import deliver_due
from cssec.vendor_service.services.notices import due_milestone, milestones
from cssec.vendor_service.services.outbox import BACKOFF, claim_due
from cssec.vendor_service.settings import VendorSettings

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


# --- the schedule, pure ------------------------------------------------------------------


def test_milestones_are_90_60_30_0_days_before_and_the_day_after_grace() -> None:
    end = date(2027, 11, 26)
    days = [(m.kind, m.on) for m in milestones(end, 30)]
    assert days == [
        ("expiring_90", date(2027, 8, 28)),
        ("expiring_60", date(2027, 9, 27)),
        ("expiring_30", date(2027, 10, 27)),
        ("expiring_0", end),
        ("grace_ended", date(2027, 12, 27)),
    ]


def test_only_the_latest_milestone_reached_since_issue_is_due() -> None:
    end = date(2027, 11, 26)
    issued = date(2026, 11, 27)
    assert due_milestone(end, 30, issued_on=issued, today=date(2027, 8, 27)) is None
    due = due_milestone(end, 30, issued_on=issued, today=date(2027, 9, 1))
    assert due is not None
    assert due.kind == "expiring_90"
    # issued 45 days before the end: no late 60-day notice, the 30-day one comes
    late = end - timedelta(days=45)
    assert due_milestone(end, 30, issued_on=late, today=late) is None
    # a milestone more than 30 days old is not sent any more
    assert due_milestone(end, 30, issued_on=issued, today=date(2028, 2, 1)) is None


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_sink() as box:
        yield box


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        found.secret = SECRET
        yield found


@pytest.fixture
def mail_settings(settings: VendorSettings, mailbox: Mailbox) -> VendorSettings:
    return settings.model_copy(
        update={
            "smtp_host": mailbox.host,
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_sender": "license@cssec.example",
            "background_jobs": False,
        }
    )


@pytest.fixture
def mvendor(mail_settings: VendorSettings, clock: FakeClock) -> Iterator[Vendor]:
    opened = open_vendor(mail_settings, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def verify_at_fake_time(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """The receiver checks webhook-timestamp against its own "now": the fake clock's."""

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> ClockDatetime:  # type: ignore[override]
            at = clock.now()
            return cls.fromtimestamp(at.timestamp(), tz=UTC)

    monkeypatch.setattr(swh, "datetime", ClockDatetime)


def _endpoint(vendor: Vendor, url: str, events: list[str] | None = None) -> int:
    with vendor.session() as session:
        view = services.add_webhook_endpoint(
            session,
            url=url,
            secret=SECRET,
            events=events or list(services.WEBHOOK_EVENTS),
            actor="test",
        )
    return view.id


def _verified(post: Received) -> dict[str, Any]:
    """What the receiver verified when the post arrived."""
    assert post.error is None, post.error
    assert isinstance(post.verified, dict)
    return post.verified


# --- webhooks ------------------------------------------------------------------------------


def test_each_audited_action_queues_its_event_in_the_same_transaction(vendor: Vendor) -> None:
    _endpoint(vendor, "https://hooks.example/cssec")
    _endpoint(vendor, "https://other.example/in", events=["code.revoked"])
    with vendor.session() as session:
        issued = services.issue_contract(
            session, customer="株式会社ウェブフック", seats=5, actor="t"
        )
        services.renew_contract(session, issued.contract_id, months=12, actor="t")
        services.issue_replacement_code(session, issued.contract_id, actor="t")
        code = services.issue_replacement_code(session, issued.contract_id, actor="t")
        services.revoke_code(session, code, actor="t", reason="leaked")
        with pytest.raises(InvalidContractTerms):
            services.issue_contract(session, customer="", seats=5, actor="t")
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    events = [(r.event, r.endpoint_id) for r in rows]
    assert events == [
        ("contract.created", 1),
        ("contract.renewed", 1),
        ("code.reissued", 1),
        ("code.reissued", 1),
        # revoking the newest code covers the two it superseded: one event per code
        *[("code.revoked", 1), ("code.revoked", 2)] * 3,
    ]
    payload = rows[0].payload
    assert payload["type"] == "contract.created"
    assert payload["data"]["contract_id"] == issued.contract_id
    # a code is a credential: never its text in a payload
    assert issued.registration_key not in json.dumps([r.payload for r in rows])
    assert issued.codes["CS"] not in json.dumps([r.payload for r in rows])


def test_a_500_is_retried_and_delivered_signed(
    vendor: Vendor, receiver: Receiver, clock: FakeClock, verify_at_fake_time: None
) -> None:
    _endpoint(vendor, receiver.url)
    receiver.answers = [500]
    with vendor.session() as session:
        issued = services.issue_contract(session, customer="Retry KK", seats=3, actor="t")
    first = run_scheduled_work(vendor)
    assert [(d.ok, d.status_code) for d in first.deliveries] == [(False, 500)]
    clock.advance(timedelta(seconds=59))
    assert run_scheduled_work(vendor).deliveries == []  # not due before a minute
    clock.advance(timedelta(seconds=1))
    second = run_scheduled_work(vendor)
    assert [(d.ok, d.status_code) for d in second.deliveries] == [(True, 204)]
    posts = receiver.received()
    assert len(posts) == 2
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"]
    assert posts[0].headers["webhook-timestamp"] != posts[1].headers["webhook-timestamp"]
    body = _verified(posts[1])
    assert body["type"] == "contract.created"
    assert body["data"]["contract_id"] == issued.contract_id  # type: ignore[index]
    with pytest.raises(swh.WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
            posts[1].body, posts[1].headers
        )
    with vendor.session() as session:
        log = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [(a.ok, a.status_code) for a in log] == [(False, 500), (True, 204)]
        assert all(a.duration_ms >= 0 for a in log)
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "delivered"


def test_back_off_over_more_than_a_day_then_failed_then_manual_redeliver(
    vendor: Vendor, receiver: Receiver, clock: FakeClock
) -> None:
    _endpoint(vendor, receiver.url, events=["contract.created"])
    receiver.answers = [503] * (len(BACKOFF) + 1)
    with vendor.session() as session:
        services.issue_contract(session, customer="Down KK", seats=3, actor="t")
    started = clock.now()
    run_scheduled_work(vendor)
    for wait in BACKOFF:
        clock.advance(wait - timedelta(seconds=1))
        assert run_scheduled_work(vendor).deliveries == []
        clock.advance(timedelta(seconds=1))
        assert len(run_scheduled_work(vendor).deliveries) == 1
    assert clock.now() - started > timedelta(days=1)
    with vendor.session() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "failed"
        assert row.last_status_code == 503
        outbox_id = row.id
    clock.advance(timedelta(days=3))
    assert run_scheduled_work(vendor).deliveries == []  # given up
    with vendor.session() as session:
        services.redeliver_message(session, outbox_id, actor="console:alice")
    done = run_scheduled_work(vendor)
    assert [(d.ok, d.status_code) for d in done.deliveries] == [(True, 204)]
    with vendor.session() as session:
        log = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert len(log) == len(BACKOFF) + 2
        assert log[-1].manual
        assert not any(a.manual for a in log[:-1])
        assert services.list_audit(session, target=f"outbox:{outbox_id}")[0].action == (
            "outbox.redelivered"
        )


def test_pending_messages_survive_a_restart_and_a_dead_sender(
    settings: VendorSettings, receiver: Receiver, clock: FakeClock
) -> None:
    first = open_vendor(settings, clock=clock)
    try:
        _endpoint(first, receiver.url, events=["contract.created", "contract.renewed"])
        with first.session() as session:
            issued = services.issue_contract(session, customer="Restart KK", seats=3, actor="t")
            services.renew_contract(session, issued.contract_id, actor="t")
            claimed = claim_due(session, limit=1)  # then this sender "dies" mid-post
        assert len(claimed) == 1
    finally:
        first.close()
    second = open_vendor(settings, clock=clock)
    try:
        # the unclaimed one goes out at once, the claimed one once its lease expired
        assert [d.event for d in run_scheduled_work(second).deliveries] == ["contract.renewed"]
        clock.advance(timedelta(minutes=5))
        assert [d.event for d in run_scheduled_work(second).deliveries] == ["contract.created"]
    finally:
        second.close()
    ids = {p.headers["webhook-id"] for p in receiver.received()}
    assert len(ids) == 2


def test_background_jobs_deliver_after_the_commit(vendor: Vendor, receiver: Receiver) -> None:
    _endpoint(vendor, receiver.url, events=["contract.created"])
    jobs = BackgroundJobs(vendor, interval=3600)
    jobs.start()
    try:
        receiver.wait_for(0)
        with vendor.session() as session:
            services.issue_contract(session, customer="Wake KK", seats=3, actor="t")
        posts = receiver.wait_for(1)
    finally:
        jobs.stop()
    assert len(posts) == 1  # woken by the commit, not by the hourly interval


def test_seats_exceeded_once_per_crossing_and_at_most_once_a_day(
    vendor: Vendor, clock: FakeClock, receiver: Receiver, verify_at_fake_time: None
) -> None:
    _endpoint(vendor, receiver.url, events=["seats.exceeded"])
    with vendor.session() as session:
        issued = services.issue_contract(session, customer="Seats KK", seats=10, actor="t")
        cid = issued.contract_id
        report = {"contract_id": cid, "server_id": "srv-1"}
        assert not services.record_seat_usage(session, seats_used=10, **report)
        assert services.record_seat_usage(session, seats_used=12, previous=10, **report)
        assert not services.record_seat_usage(session, seats_used=13, previous=12, **report)
        # back under and over again the same day: a flapping count sends once a day
        assert not services.record_seat_usage(session, seats_used=12, previous=9, **report)
    clock.advance(timedelta(days=1))
    with vendor.session() as session:
        assert not services.record_seat_usage(session, seats_used=12, previous=12, **report)
        assert services.record_seat_usage(session, seats_used=11, previous=8, **report)
    run_scheduled_work(vendor)
    bodies = [_verified(p) for p in receiver.received()]
    assert [b["data"]["seats_used"] for b in bodies] == [12, 11]  # type: ignore[index]


def test_status_checks_carrying_seats_emit_seats_exceeded_per_crossing(
    vendor: Vendor, clock: FakeClock, receiver: Receiver, verify_at_fake_time: None
) -> None:
    """The wiring: status checks (through the batched history and through the route
    without it) report the seats; each server's crossing emits one event."""
    _endpoint(vendor, receiver.url, events=["seats.exceeded"])
    with vendor.session() as session:
        issued = services.issue_contract(session, customer="Report KK", seats=25, actor="t")
    code = issued.codes["CS"]
    for used in (20, 30, 31, 30):  # one crossing, three reports over
        with vendor.session() as session:
            services.issue_status_statement(session, code, server_id="srv-a", seats_used=used)
        clock.advance(timedelta(days=1))
    vendor.status_log.flush()
    with vendor.sessionmaker() as session:
        session.info.pop("status_log")  # a session without the batched history
        services.issue_status_statement(session, code, server_id="srv-b", seats_used=26)
        services.issue_status_statement(session, code, server_id="srv-b", seats_used=27)
    run_scheduled_work(vendor)
    bodies = [_verified(p) for p in receiver.received()]
    seen = [(b["data"]["server_id"], b["data"]["seats_used"]) for b in bodies]  # type: ignore[index]
    assert seen == [("srv-a", 30), ("srv-b", 26)]
    with vendor.session() as session:
        services.revoke_code(session, code, actor="t")
    clock.advance(timedelta(days=1))
    with vendor.session() as session, pytest.raises(RevokedActivationCode):
        services.issue_status_statement(session, code, server_id="srv-c", seats_used=99)
    vendor.status_log.flush()
    run_scheduled_work(vendor)
    assert len(receiver.received()) == 2, "a revoked code's check reports nothing"


def test_endpoint_checks_and_removal(vendor: Vendor) -> None:
    with vendor.session() as session:
        for url, secret, events in (
            ("http://hooks.example/x", SECRET, ["code.revoked"]),  # plain http off loopback
            ("https://hooks.example/x", "not-a-secret", ["code.revoked"]),
            ("https://hooks.example/x", "whsec_" + base64.b64encode(b"short").decode(), ["x"]),
            ("https://hooks.example/x", SECRET, ["no.such.event"]),
        ):
            with pytest.raises(InvalidWebhookEndpoint):
                services.add_webhook_endpoint(
                    session, url=url, secret=secret, events=events, actor="t"
                )
        view = services.add_webhook_endpoint(
            session, url="https://hooks.example/x", secret=SECRET, events=["code.revoked"],
            actor="t",
        )  # fmt: skip
        assert SECRET not in repr(view)
        audit = services.list_audit(session, target=f"webhook:{view.id}")
        assert SECRET not in json.dumps([a.after for a in audit])
        services.remove_webhook_endpoint(session, view.id, actor="t")
        assert services.list_webhook_endpoints(session) == []


# --- notices -----------------------------------------------------------------------------


def test_notices_at_90_60_30_0_days_and_grace_end_each_once(
    mvendor: Vendor,
    mailbox: Mailbox,
    receiver: Receiver,
    clock: FakeClock,
    verify_at_fake_time: None,
) -> None:
    _endpoint(mvendor, receiver.url, events=["license.expiring", "license.expired"])
    with mvendor.session() as session:
        ja = services.issue_contract(
            session, customer="株式会社通知", seats=5, contact_email="tanto@tsuchi.example",
            actor="t",
        )  # fmt: skip
        en = services.issue_contract(
            session, customer="Notice Ltd", seats=5, with_dcs=True, months=6,
            contact_email="it@notice.example", language="en", actor="t",
        )  # fmt: skip
        services.issue_contract(session, customer="No Contact KK", seats=5, actor="t")
        assert session.scalar(select(Customer.language).where(Customer.name == "株式会社通知")) == (
            "ja"
        )
    last = ja.end + timedelta(days=40)
    arrived: dict[tuple[str, str], date] = {}
    while clock.now().date() <= last:
        run_scheduled_work(mvendor)
        run_scheduled_work(mvendor)  # a second pass the same day sends nothing new
        for mail in mailbox.received()[len(arrived) :]:
            kind = str(mail["X-Cssec-Notice"]).split("/")[1]
            arrived[(str(mail["To"]), kind)] = clock.now().date()
        clock.advance(timedelta(days=1))
    mails = mailbox.received()
    # each on its day: 90, 60, 30 and 0 days before the end, the day after the grace
    for to, issued in (("tanto@tsuchi.example", ja), ("it@notice.example", en)):
        days = {kind: day for (who, kind), day in arrived.items() if who == to}
        assert days == {m.kind: m.on for m in milestones(issued.end, 30)}, to
    by_to: dict[str, list[str]] = {}
    for mail in mails:
        by_to.setdefault(str(mail["To"]), []).append(str(mail["X-Cssec-Notice"]))
    kinds = ["expiring_90", "expiring_60", "expiring_30", "expiring_0", "grace_ended"]
    assert [n.split("/")[1] for n in by_to["tanto@tsuchi.example"]] == kinds
    assert [n.split("/")[1] for n in by_to["it@notice.example"]] == kinds
    assert len(mails) == 10  # each once; nobody mailed for the contract without a contact
    ja_mail = next(m for m in mails if m["To"] == "tanto@tsuchi.example")
    en_mail = next(m for m in mails if m["To"] == "it@notice.example")
    assert "【C/S Sec.】" in str(ja_mail["Subject"])
    assert "あと 90 日" in str(ja_mail["Subject"])
    assert "ご担当者様" in ja_mail.get_content()
    assert "in 90 days" in str(en_mail["Subject"])
    assert "Damage Cleanup Services" in en_mail.get_content()
    assert all(m["From"] == "license@cssec.example" for m in mails)
    expired = {str(m["To"]): m for m in mails if "grace_ended" in str(m["X-Cssec-Notice"])}
    assert "更新猶予期間が終了しました" in str(expired["tanto@tsuchi.example"]["Subject"])
    assert "grace period has ended" in str(expired["it@notice.example"]["Subject"])
    # the webhooks, each once per notice and contract (the third contract's too)
    bodies = [_verified(p) for p in receiver.received()]
    seen = [(b["type"], b["data"]["contract_id"], b["data"].get("days_left")) for b in bodies]  # type: ignore[union-attr]
    assert len(seen) == len(set(seen)) == 15
    assert ("license.expired", ja.contract_id, None) in seen
    assert ("license.expiring", en.contract_id, 0) in seen


def test_a_renewal_restarts_the_notices_for_the_new_end(
    mvendor: Vendor, mailbox: Mailbox, clock: FakeClock
) -> None:
    with mvendor.session() as session:
        issued = services.issue_contract(
            session, customer="Renew KK", seats=5, contact_email="a@renew.example", actor="t"
        )
    clock.set(datetime.combine(issued.end - timedelta(days=30), datetime.min.time(), UTC))
    run_scheduled_work(mvendor)
    with mvendor.session() as session:
        renewed = services.renew_contract(session, issued.contract_id, actor="t")
    clock.set(datetime.combine(issued.end, datetime.min.time(), UTC))
    run_scheduled_work(mvendor)  # the old end's 0-day notice is not sent any more
    clock.set(datetime.combine(renewed.end - timedelta(days=90), datetime.min.time(), UTC))
    run_scheduled_work(mvendor)
    notices = [str(m["X-Cssec-Notice"]) for m in mailbox.received()]
    assert notices == [
        f"contract:{issued.contract_id}/expiring_30/{issued.end}",
        f"contract:{issued.contract_id}/expiring_90/{renewed.end}",
    ]


def test_a_refusing_smtp_server_is_retried(
    mvendor: Vendor, mailbox: Mailbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mvendor.session() as session:
        issued = services.issue_contract(
            session, customer="Busy KK", seats=5, contact_email="a@busy.example", actor="t"
        )
    clock.set(datetime.combine(issued.end, datetime.min.time(), UTC))
    answers = ["451 4.3.0 try again later"]
    original = Mailbox.handle_DATA

    async def busy(self: Mailbox, server: object, session: object, envelope: object) -> str:
        if answers:
            return answers.pop(0)
        return await original(self, server, session, envelope)

    monkeypatch.setattr(Mailbox, "handle_DATA", busy)
    done = run_scheduled_work(mvendor)
    assert [(d.channel, d.ok, d.status_code) for d in done.deliveries] == [("mail", False, 451)]
    clock.advance(timedelta(minutes=1))
    done = run_scheduled_work(mvendor)
    assert [(d.channel, d.ok, d.status_code) for d in done.deliveries] == [("mail", True, 250)]
    assert len(mailbox.received()) == 1


def test_deliver_due_claims_nothing_twice(vendor: Vendor, receiver: Receiver) -> None:
    _endpoint(vendor, receiver.url, events=["contract.created"])
    with vendor.session() as session:
        for n in range(3):
            services.issue_contract(session, customer=f"Claim {n}", seats=1, actor="t")
        first = claim_due(session, limit=2)
        second = claim_due(session, limit=10)
    assert len(first) == 2
    assert len(second) == 1
    assert not set(first) & set(second)
    assert deliver_due(vendor) == []  # all leased
    with vendor.session() as session:
        assert session.scalar(select(func.count(DeliveryAttempt.id))) == 0
