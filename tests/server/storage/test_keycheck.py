"""The server refuses to start without its key files, and says how to restore them."""

from __future__ import annotations

import json

import pytest
from tests.helpers.server import Desk, ServerFactory

from cssec.server.app import create_app
from cssec.server.storage.keycheck import ServerKeysMismatch, ServerKeysMissing


async def test_session_key_missing(servers: ServerFactory, desk: Desk) -> None:
    settings = await servers.install(registration_key=desk.contract().registration_key)
    (settings.data_dir / "session.key").unlink()
    with pytest.raises(ServerKeysMissing) as raised:
        create_app(settings, start_scheduler=False)
    assert "session.key" in raised.value.message("en")
    assert "cssec server restore" in raised.value.message("ja")


async def test_pinned_vendor_keys_missing(servers: ServerFactory, desk: Desk) -> None:
    settings = await servers.install(registration_key=desk.contract().registration_key)
    (settings.data_dir / "vendor-keys.json").unlink()
    with pytest.raises(ServerKeysMissing, match=r"vendor-keys\.json"):
        create_app(settings, start_scheduler=False)


async def test_vendor_keys_without_the_pinned_kid(servers: ServerFactory, desk: Desk) -> None:
    settings = await servers.install(registration_key=desk.contract().registration_key)
    path = settings.data_dir / "vendor-keys.json"
    path.write_text(json.dumps({"keys": []}))
    with pytest.raises(ServerKeysMismatch):
        create_app(settings, start_scheduler=False)


async def test_intact_server_is_ready(servers: ServerFactory, desk: Desk) -> None:
    server = servers.open(await servers.install(registration_key=desk.contract().registration_key))
    answer = await server.client.get("/readyz")
    assert answer.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}
    (server.settings.data_dir / "session.key").unlink()
    answer = await server.client.get("/readyz", headers={"accept-language": "en"})
    assert answer.status_code == 503
    assert answer.json()["checks"]["keys"] == "failed"
