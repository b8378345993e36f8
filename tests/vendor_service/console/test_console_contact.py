"""The contract's own notice contact in the console: staff change the e-mail address and the
language (ja/en) the notices use, with the CSRF token; the change is audited, a bad
address is refused with the form kept, and the next notice goes to the new address in
the new language."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import token, vendor_of

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.models import Contract, OutboxMessage


def _contact(app: FastAPI, contract_id: int) -> tuple[str | None, str]:
    """The contract's own contact (the customer name carries none)."""
    with vendor_of(app).session() as session:
        row = session.get(Contract, contract_id)
        assert row is not None
        return row.contact_email, row.contact_language


def test_staff_change_the_notice_contact_and_the_notices_follow(
    app: FastAPI, staff: TestClient, contract: services.IssuedContract, clock: FakeClock
) -> None:
    path = f"/console/contracts/{contract.contract_id}/contact"
    page = staff.get(f"/console/contracts/{contract.contract_id}")
    assert 'data-testid="edit-contact"' in page.text
    # No contact and no registration yet: the page says that nobody gets the notices.
    assert 'data-testid="contact-missing"' in page.text
    assert "未設定" in page.text
    form = staff.get(path)
    assert form.status_code == 200
    assert 'data-testid="contact-form"' in form.text
    saved = staff.post(
        path,
        data={
            "contact_email": " it@customer.example ",
            "language": "en",
            "csrf_token": token(staff, path),
        },
    )
    assert saved.status_code == 200  # followed to the contract page
    assert saved.url.path == f"/console/contracts/{contract.contract_id}"
    assert "通知の連絡先を保存しました" in saved.text
    assert "it@customer.example" in saved.text
    assert "通知の連絡先変更" in saved.text  # the contract's audit log
    # ... in words: the language field and its value named, never `language` / `en`.
    audit = "".join(saved.text[saved.text.index('data-testid="contract-audit"') :].split())
    assert "<dt>お知らせの言語</dt>" in audit
    assert '<spanclass="before">日本語</span>' in audit
    assert '<spanclass="after">英語</span>' in audit
    assert "<dt>language</dt>" not in audit
    assert _contact(app, contract.contract_id) == ("it@customer.example", "en")
    with vendor_of(app).session() as session:
        [entry] = services.list_audit(session, target=f"contract:{contract.contract_id}")[:1]
        assert entry.action == "contract.contact_changed"
        assert entry.actor.endswith("bob")
        assert entry.before is not None
        assert entry.before["contact_email"] is None
        assert entry.after == {
            "customer": contract.customer,
            "contact_email": "it@customer.example",
            "language": "en",
        }

    # The next notice is addressed to it, in English.
    clock.set(datetime.combine(contract.end, datetime.min.time(), UTC))
    with vendor_of(app).session() as session:
        [planned] = services.plan_notices(session, mail=True)
        assert planned.recipient == "it@customer.example"
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "mail")).one()
        assert mail.recipient == "it@customer.example"
        assert mail.payload["language"] == "en"
        assert "ends today" in mail.payload["subject"]


def test_a_bad_address_or_a_forged_post_changes_nothing(
    app: FastAPI, staff: TestClient, contract: services.IssuedContract
) -> None:
    path = f"/console/contracts/{contract.contract_id}/contact"
    forged = staff.post(path, data={"contact_email": "x@evil.example", "language": "en"})
    assert forged.status_code == 403
    bad = staff.post(
        path,
        data={
            "contact_email": "not an address",
            "language": "ja",
            "csrf_token": token(staff, path),
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="contact-error"' in bad.text
    assert "連絡先のメールアドレスが正しくありません" in bad.text
    assert 'value="not an address"' in bad.text
    wrong_language = staff.post(
        path,
        data={"contact_email": "a@b.example", "language": "fr", "csrf_token": token(staff, path)},
    )
    assert wrong_language.status_code == 422
    assert _contact(app, contract.contract_id) == (None, "ja")
    with vendor_of(app).session() as session:
        actions = [e.action for e in services.list_audit(session)]
        assert "contract.contact_changed" not in actions
    missing = staff.get("/console/contracts/999999/contact")
    assert missing.status_code == 404


def test_unchanged_is_not_audited(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    path = f"/console/contracts/{contract.contract_id}/contact"
    data = {"contact_email": "", "language": "ja", "csrf_token": token(admin, path)}
    again = admin.post(path, data=data)
    assert "変更はありません" in again.text
    with vendor_of(app).session() as session:
        actions = [e.action for e in services.list_audit(session)]
        assert "contract.contact_changed" not in actions
