"""The console's webhook form refuses an internal target, says why and how to allow it
(issue 22, item 2)."""

from __future__ import annotations

import base64
import os

from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import token, vendor_of

from cssec.vendor_service import services

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def test_the_console_refuses_a_private_target_and_keeps_nothing(admin: TestClient) -> None:
    form = {
        "url": "https://10.0.0.5/hooks",
        "secret": SECRET,
        "events": ["code.revoked"],
        "csrf_token": token(admin, "/console/webhooks"),
    }
    refused = admin.post("/console/webhooks", data=form, headers={"accept-language": "en"})
    assert refused.status_code == 422
    assert "10.0.0.5 is a private address" in refused.text
    assert "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS" in refused.text
    assert SECRET not in refused.text
    with vendor_of(admin.app).session() as session:  # type: ignore[arg-type]
        assert services.list_webhook_endpoints(session) == []
