"""Webhooks in the console: admins only, CSRF on every form, the secret never shown back,
the delivery log with HTTP status codes, manual redelivery."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers.webhook_receiver import Receiver, webhook_receiver
from tests.vendor_service.console.conftest import STAFF, token, vendor_of

from cssec.vendor_service import services
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.scheduler import run_scheduled_work

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        found.secret = SECRET
        yield found


# --- console -------------------------------------------------------------------------------


def test_admin_adds_an_endpoint_and_never_sees_the_secret_again(
    admin: TestClient, receiver: Receiver
) -> None:
    page = admin.get("/console/webhooks")
    assert page.status_code == 200
    form = {
        "url": receiver.url,
        "secret": SECRET,
        "events": ["contract.created", "code.revoked"],
        "description": "CRM",
        "csrf_token": token(admin, "/console/webhooks"),
    }
    added = admin.post("/console/webhooks", data=form)
    assert added.status_code == 200
    assert receiver.url in added.text
    assert SECRET not in added.text
    assert SECRET.removeprefix("whsec_") not in added.text
    assert "sha256:" in added.text
    # no CSRF token, no change
    refused = admin.post("/console/webhooks", data={**form, "csrf_token": "x"})
    assert refused.status_code == 403
    # a bad secret: the form comes back with the error, without the secret typed in
    bad = admin.post(
        "/console/webhooks",
        data={**form, "secret": "whsec_c2hvcnQ=", "csrf_token": token(admin, "/console/webhooks")},
    )
    assert bad.status_code == 422
    assert "whsec_c2hvcnQ=" not in bad.text
    with vendor_of(admin.app).session() as session:  # type: ignore[arg-type]
        assert len(services.list_webhook_endpoints(session)) == 1


def test_staff_may_not_see_or_change_webhooks(
    make_client: Callable[..., TestClient],
) -> None:
    staff = make_client(STAFF)
    assert staff.get("/console/webhooks").status_code == 403
    assert staff.get("/console/deliveries").status_code == 403
    csrf = token(staff)
    response = staff.post(
        "/console/webhooks",
        data={"url": "https://x.example/", "secret": SECRET, "events": ["code.revoked"],
              "csrf_token": csrf},
    )  # fmt: skip
    assert response.status_code == 403
    assert "/console/webhooks" not in staff.get("/console/").text


def test_delivery_log_shows_status_codes_and_redelivers(
    admin: TestClient, receiver: Receiver, contract: services.IssuedContract
) -> None:
    vendor = vendor_of(admin.app)  # type: ignore[arg-type]
    with vendor.session() as session:
        services.add_webhook_endpoint(
            session, url=receiver.url, secret=SECRET, events=["code.revoked"], actor="t"
        )
        services.revoke_code(session, contract.codes["DCS"], actor="t", reason="test")
        outbox_id = session.scalars(select(OutboxMessage.id)).one()
    receiver.answers = [500]
    run_scheduled_work(vendor)
    listing = admin.get("/console/deliveries")
    assert 'data-status="pending"' in listing.text
    assert ">500<" in listing.text
    detail = admin.get(f"/console/deliveries/{outbox_id}")
    assert 'data-field="status-code">500<' in detail.text
    redeliver = admin.post(
        f"/console/deliveries/{outbox_id}/redeliver",
        data={"csrf_token": token(admin, f"/console/deliveries/{outbox_id}")},
    )
    assert redeliver.status_code == 200
    run_scheduled_work(vendor)
    detail = admin.get(f"/console/deliveries/{outbox_id}")
    assert 'data-status="delivered"' in detail.text
    assert 'data-field="status-code">204<' in detail.text
    assert len(receiver.received()) == 2
    english = admin.get(f"/console/deliveries/{outbox_id}", headers={"Accept-Language": "en"})
    assert "Delivery log" in english.text or "配信ログ" in english.text
