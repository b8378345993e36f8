"""The vendor rotates its signing key (`cssec vendor keys rotate`): servers and clients
that pinned the old key keep working, and nothing else can slip a key in.

The new key is trusted only through the vendor's endorsement (the new key's JWK signed
with the key it replaced, `core.signing.endorse_key`): the server follows it from a key it
pinned, records a vendor.keys_rotated event, and its clients take the server's key set
when a manifest names a kid they lack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from tests.helpers.server import Desk, Server, ServerFactory, SyncBridge
from tests.helpers.updates import publish_virus_pattern_v2

from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.updater import update_components
from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, VerifyingKey, endorse_key
from cssec.vendor_service.runtime import Vendor


def _vendor(vendor_app: Any) -> Vendor:
    vendor: Vendor = vendor_app.state.vendor
    return vendor


def _install_client(server: Server, state: ClientState, clock: FakeClock) -> None:
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        installed = install_client(
            state, server_url="http://server.test", route="autopcc", install_token=None,
            clock=clock, lang="en", transport=SyncBridge(http),
        )  # fmt: skip
    assert installed.update_error is None, installed.update_error


async def test_a_rotation_reaches_the_server_and_its_clients_through_the_endorsement(
    servers: ServerFactory, desk: Desk, clock: FakeClock, vendor_app: Any, tmp_path: Path
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    state = ClientState(tmp_path / "client")
    _install_client(server, state, clock)
    old_kids = set(state.load_config().verifying_keys())

    _mac_kid, new_kid = _vendor(vendor_app).keyring.rotate()
    new_end = desk.renew(contract.registration_key)
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 200, response.text
    assert response.json()[0]["expires_on"] == new_end.isoformat()
    [event] = server.events("vendor.keys_rotated")
    assert event.details["kids"] == [new_kid]
    assert "verified by a pinned key" in event.message_en
    assert new_kid in server.app.state.server.data.read_vendor_keys()
    again = await server.api("POST", "/api/v1/licenses/check-online")
    assert again.status_code == 200
    assert len(server.events("vendor.keys_rotated")) == 1, "learned once"

    # The vendor's manifest is signed with the new key now; the server takes it...
    publish_virus_pattern_v2(desk)
    await server.app.state.component_poller.update_now(actor="t")
    # ... and the client, which only knows the old key, asks its server and updates.
    with TestClient(server.app, base_url="http://server.test", client=("127.0.0.1", 50000)) as http:
        transport = SyncBridge(http)
        with agent_for(state.load_config(), lang="en", transport=transport) as agent:
            outcome = update_components(state, agent, clock=clock, lang="en")
    assert outcome.versions[Component.VIRUS_PATTERN] == 2
    assert set(state.load_config().verifying_keys()) == old_kids | {new_kid}


async def test_a_new_key_not_vouched_for_by_a_pinned_key_is_refused(
    servers: ServerFactory, desk: Desk, vendor_app: Any
) -> None:
    """What a man in the middle could offer: the new key endorsed by a key of its own.
    The check fails as an unknown key, the license and the pinned keys stay as they were."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    before = server.slot().expires_on
    keyring = _vendor(vendor_app).keyring
    keyring.rotate()
    current = VerifyingKey.from_jwk(keyring.jwks()["keys"][0])
    forged = endorse_key(current, SigningKey.generate(), at=contract_time())
    (keyring.directory / "endorsements.json").write_text(json.dumps({"endorsements": [forged]}))
    desk.renew(contract.registration_key)
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 502
    assert response.json()["code"] == "untrusted_statement"
    assert server.events("license.check_failed")[0].details["error"]["reason"] == "unknown_kid"
    assert server.events("vendor.keys_rotated") == []
    assert server.slot().expires_on == before
    assert current.kid not in server.app.state.server.data.read_vendor_keys()


def contract_time() -> Any:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime(2026, 11, 27, tzinfo=UTC)
