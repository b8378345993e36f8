"""A reissue that undoes a revocation says so: its code.reissued audit row names the revoked
code it lifts (`lifted_revocation`) and its webhook that code's serial. Both once read as
a routine reissue (`codes: []`), so nothing in the audit log or the CRM told that an admin,
the CLI or a token with codes:revoke had put a revoked product back in service."""

from __future__ import annotations

import base64

from sqlalchemy import select

from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry, OutboxMessage
from cssec.vendor_service.runtime import Vendor


def _reissued(vendor: Vendor) -> tuple[list[AuditEntry], list[OutboxMessage]]:
    with vendor.session() as session:
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "code.reissued").order_by(AuditEntry.id)
        ).all()
        events = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event == "code.reissued")
            .order_by(OutboxMessage.id)
        ).all()
        session.expunge_all()
    return list(audits), list(events)


def test_a_reissue_over_a_revocation_names_the_revocation_it_lifts(vendor: Vendor) -> None:
    with vendor.session() as session:
        services.add_webhook_endpoint(
            session,
            url="https://hooks.example.com/cssec",
            events=["code.reissued"],
            secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
            actor="test",
        )
        issued = services.issue_contract(session, customer="株式会社取消", seats=5, actor="t")
        first = issued.codes["CS"]
        second = services.issue_replacement_code(session, first, product=None, actor="t")
        services.revoke_code(session, second, actor="t", reason="不正利用")
        third = services.issue_replacement_code(
            session, second, product=None, actor="cli:ops", lift_revocation=True
        )
        revoked = services.find_activation_code(session, second)[1]
        serial = revoked.serial
    audits, events = _reissued(vendor)
    routine, lifting = audits
    assert routine.after is not None
    assert "lifted_revocation" not in routine.after
    assert lifting.after is not None
    assert lifting.after["code"] == third
    assert lifting.after["lifted_revocation"] == second
    assert "lifted_revocation_serial" not in events[0].payload["data"]
    assert events[1].payload["data"]["lifted_revocation_serial"] == serial
