"""The code.revoked webhook of a code covered by a newer code's revocation names the newer
code by serial (`covered_by_serial`), never by its text (docs/protocol.md §10: `data` names
codes by serial and product, never a code's text). Its `reason` was the stored reason,
which quotes the covering code, so every covered code's event carried that code's text."""

from __future__ import annotations

import base64
import json

from sqlalchemy import select

from cssec.vendor_service import services
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.runtime import Vendor


def test_a_covered_codes_event_names_the_covering_code_by_serial_only(vendor: Vendor) -> None:
    with vendor.session() as session:
        services.add_webhook_endpoint(
            session,
            url="https://hooks.example.com/cssec",
            events=["code.revoked"],
            secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
            actor="test",
        )
        issued = services.issue_contract(session, customer="株式会社通知", seats=5, actor="t")
    codes = [issued.codes["CS"]]
    for _ in range(2):
        with vendor.session() as session:
            codes.append(
                services.issue_replacement_code(session, codes[-1], product=None, actor="t")
            )
    with vendor.session() as session:
        services.revoke_code(session, codes[-1], actor="t", reason="契約解除")
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "code.revoked")
        ).all()
        newest = services.find_activation_code(session, codes[-1])[1]
    data = [row.payload["data"] for row in rows]
    assert len(data) == 3
    assert [d["reason"] for d in data] == ["契約解除"] * 3
    assert [d.get("covered_by_serial") for d in data] == [newest.serial, newest.serial, None]
    sent = json.dumps([row.payload for row in rows], ensure_ascii=False)
    for code in codes:
        assert code not in sent
        assert code.replace("-", "") not in sent
