"""Notices go to each contract's own contact, in its own language, whatever the customer
name: two contracts of "C社" with different contacts, one with only a registration's
address, and one with neither (no mail; the webhook still fires)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.runtime import Vendor


def test_each_contract_is_mailed_at_its_own_contact_in_its_own_language(
    vendor: Vendor, clock: FakeClock
) -> None:
    start = date(2026, 1, 1)
    with vendor.session() as session:
        a = services.issue_contract(
            session,
            customer="C社",
            seats=5,
            start=start,
            contact_email="a@c.example",
            language="ja",
            actor="test",
        )
        b = services.issue_contract(
            session,
            customer="C社",
            seats=5,
            start=start,
            contact_email="b@c.example",
            language="en",
            actor="test",
        )
        c = services.issue_contract(session, customer="C社", seats=5, start=start, actor="test")
        d = services.issue_contract(session, customer="C社", seats=5, start=start, actor="test")
        services.register_server(
            session,
            c.registration_key,
            company="C社",
            contact_email="c@c.example",
            server_id="srv-c",
            actor="test",
        )
        # Changing one contract's contact changes no other.
        services.change_contact(
            session, a.contract_id, contact_email="a2@c.example", language="ja", actor="test"
        )
    clock.set(datetime.combine(a.end, datetime.min.time(), UTC))
    with vendor.session() as session:
        planned = {p.contract_id: p.recipient for p in services.plan_notices(session, mail=True)}
        mails = {
            m.contract_id: (m.recipient, m.payload["language"])
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "mail"))
        }
    assert planned == {
        a.contract_id: "a2@c.example",
        b.contract_id: "b@c.example",
        c.contract_id: "c@c.example",
        d.contract_id: None,
    }
    assert mails == {
        a.contract_id: ("a2@c.example", "ja"),
        b.contract_id: ("b@c.example", "en"),
        c.contract_id: ("c@c.example", "ja"),
    }
