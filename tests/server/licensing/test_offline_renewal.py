"""Air-gapped renewal by file: request (server) → respond (vendor service) → import (server),
with the network to the vendor down throughout. The vendor side is the real service
function the CLI, the console and the portal call; the fake clock moves the days."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport, csrf_of

from cssec.core.clock import FakeClock
from cssec.core.license_files import InvalidLicenseRequest, InvalidLicenseResponse
from cssec.server.licensing.errors import UntrustedStatement
from cssec.server.licensing.offline_renewal import (
    LicenseResponseUnknownRequest,
    LicenseResponseWrongServer,
    import_response,
    write_request,
)
from cssec.server.models import LicenseRequest
from cssec.server.storage.keycheck import (
    ServerIdentityKeyMismatch,
    ServerKeysMissing,
    check_server_keys,
)
from cssec.vendor_service.models import AuditEntry, StatusCheck
from cssec.vendor_service.services.offline_renewal import respond


def _request(server: Server, actor: str = "test") -> bytes:
    return write_request(server.app.state.server.license_env(), actor=actor).data


def _respond(desk: Desk, clock: FakeClock, request: bytes) -> bytes:
    with desk.vendor.session() as session:
        return respond(session, request, actor="desk:test", now=clock.now())


def _import(server: Server, response: bytes) -> Any:
    return import_response(server.app.state.server.license_env(), response, actor="test")


async def _offline_server(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, **contract: Any
) -> tuple[Server, Any]:
    issued = desk.contract(**contract)
    server = await servers.start(activation_code=issued.codes["CS"], offline=True)
    network.mode = "down"
    return server, issued


async def test_request_respond_import_extends_as_an_online_check(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    assert server.app.state.server.data.read_vendor_keys() == {}, "fingerprint only: no pin yet"
    clock.advance(timedelta(days=300))
    new_end = desk.renew(contract.registration_key)

    request = _request(server)
    body = json.loads(request)
    assert body["statement"]["server_id"]
    [requested] = body["statement"]["codes"]
    assert requested["product"] == "CS"
    assert requested["activation_code"] == contract.codes["CS"].replace("-", "")
    outcome = _import(server, _respond(desk, clock, request))

    assert not outcome.already_imported
    assert [o.new_expiry for o in outcome.outcomes] == [new_end]
    slot = server.slot()
    assert slot.expires_on == new_end
    assert slot.confirmed_online is True
    assert slot.activation_code == requested["activation_code"], "the same code, a later expiry"
    [event] = server.events("license.renewed_by_file")
    assert event.details["new_expiry"] == new_end.isoformat()
    assert "応答ファイルを取り込みました" in event.message_ja
    assert server.events("vendor.keys_pinned"), "keys matching the fingerprint, from the file"
    assert server.app.state.server.data.read_vendor_keys()
    assert network.requests == [], "no route to the vendor was ever used"
    # The vendor recorded the answer as a check of this server, and audited it.
    with desk.vendor.session() as session:
        [check] = session.scalars(select(StatusCheck)).all()
        assert check.server_id == body["statement"]["server_id"]
        assert check.contract_end == new_end
        assert check.seats_used == 0
        [audit] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "license.offline_responded")
        ).all()
        assert audit.actor == "desk:test"
    # The API shows the new expiry at once.
    licenses = (await server.api("GET", "/api/v1/licenses")).json()
    assert licenses[0]["expires_on"] == new_end.isoformat()


async def test_importing_the_same_response_twice_changes_nothing(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    desk.renew(contract.registration_key)
    response = _respond(desk, clock, _request(server))
    _import(server, response)
    before = server.slot()
    clock.advance(timedelta(hours=1))
    again = _import(server, response)
    assert again.already_imported
    assert "取り込み済み" in again.message("ja")
    assert "already imported" in again.message("en")
    after = server.slot()
    assert (after.expires_on, after.last_success) == (before.expires_on, before.last_success)
    assert len(server.events("license.renewed_by_file")) == 1


async def test_a_response_for_another_server_is_refused(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    first = await servers.start(activation_code=contract.codes["CS"], offline=True)
    second = await servers.start(activation_code=contract.codes["CS"], offline=True)
    network.mode = "down"
    desk.renew(contract.registration_key)
    response = _respond(desk, clock, _request(first))
    before = second.slot().expires_on
    with pytest.raises(LicenseResponseWrongServer) as refused:
        _import(second, response)
    assert refused.value.code == "license_response_wrong_server"
    assert "別のサーバ" in refused.value.message("ja")
    assert "another server" in refused.value.message("en")
    assert second.slot().expires_on == before


async def test_a_response_to_another_request_is_refused(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    desk.renew(contract.registration_key)
    response = json.loads(_respond(desk, clock, _request(server)))
    before = server.slot().expires_on

    unknown_nonce = dict(response, nonce="A" * 24)
    with pytest.raises(LicenseResponseUnknownRequest):
        _import(server, json.dumps(unknown_nonce).encode())
    other_digest = dict(response, request_sha256="0" * 64)
    with pytest.raises(LicenseResponseUnknownRequest) as refused:
        _import(server, json.dumps(other_digest).encode())
    assert refused.value.code == "license_response_unknown_request"
    # A request the server wrote, answered by statements bound to another of its requests.
    other = json.loads(_respond(desk, clock, _request(server)))
    swapped = dict(other, statements=response["statements"])
    with pytest.raises(InvalidLicenseResponse) as mixed:
        _import(server, json.dumps(swapped).encode())
    assert mixed.value.fields["reason"] == "request_mismatch"
    assert server.slot().expires_on == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("contract_end", "2099-12-31"), ("nonce", "B" * 24), ("server_id", "someone-else")],
)
async def test_a_tampered_statement_is_refused(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    field: str,
    value: str,
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    desk.renew(contract.registration_key)
    response = json.loads(_respond(desk, clock, _request(server)))
    response["statements"][0]["statement"][field] = value
    before = server.slot().expires_on
    with pytest.raises(InvalidLicenseResponse) as refused:
        _import(server, json.dumps(response).encode())
    assert refused.value.fields["reason"] == "bad_signature"
    assert server.slot().expires_on == before
    assert server.app.state.server.data.read_vendor_keys(), "the keys matched: pinned anyway"
    # The untouched response still imports: a refused one used nothing up.
    assert not _import(server, _respond_again(desk, clock, server)).already_imported


def _respond_again(desk: Desk, clock: FakeClock, server: Server) -> bytes:
    return _respond(desk, clock, _request(server))


async def test_an_older_response_cannot_undo_a_newer_one(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    old_response = _respond(desk, clock, _request(server))  # before the renewal
    clock.advance(timedelta(days=1))
    new_end = desk.renew(contract.registration_key)
    _import(server, _respond(desk, clock, _request(server)))
    with pytest.raises(UntrustedStatement) as refused:
        _import(server, old_response)
    assert refused.value.fields["reason"] == "stale_statement"
    assert server.slot().expires_on == new_end


async def test_a_revoked_code_comes_back_revoked(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    desk.revoke(contract.codes["CS"])
    outcome = _import(server, _respond(desk, clock, _request(server)))
    [result] = outcome.outcomes
    assert result.error is not None
    assert result.error.code == "revoked_activation_code"
    assert server.slot().revoked_at is not None
    assert server.events("license.revoked")
    licenses = (await server.api("GET", "/api/v1/licenses")).json()
    assert licenses[0]["status"] == "revoked"


async def test_the_vendor_refuses_a_tampered_or_foreign_request(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, _contract = await _offline_server(servers, desk, network)
    body = json.loads(_request(server))
    body["statement"]["seats_used"] = 1
    with pytest.raises(InvalidLicenseRequest) as tampered:
        _respond(desk, clock, json.dumps(body).encode())
    assert tampered.value.fields["reason"] == "bad_signature"
    with pytest.raises(InvalidLicenseRequest) as garbage:
        _respond(desk, clock, b"\xff not json")
    assert garbage.value.code == "invalid_license_request"
    # A code the vendor never issued (a foreign MAC): answered as an online check is, with
    # the vendor's signed "invalid" (issue 21), recorded in no history.
    other = await servers.start(activation_code=_foreign(), offline=True)
    answered = json.loads(_respond(desk, clock, _request(other)))
    assert [s["statement"]["state"] for s in answered["statements"]] == ["invalid"]
    with desk.vendor.session() as session:
        assert session.scalars(select(StatusCheck)).all() == []


def _foreign() -> str:
    from datetime import date  # noqa: PLC0415

    from tests.helpers.server import foreign_code  # noqa: PLC0415

    return foreign_code(expires_on=date(2030, 1, 1))


async def test_the_identity_key_is_checked_once_a_request_is_pending(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, _contract = await _offline_server(servers, desk, network)
    ctx = server.app.state.server
    assert ctx.data.identity_key.is_file(), "created at install"
    check_server_keys(ctx.data, ctx.engine)
    _request(server)
    key = ctx.data.identity_key.read_bytes()
    ctx.data.identity_key.unlink()
    with pytest.raises(ServerKeysMissing):
        check_server_keys(ctx.data, ctx.engine)
    from cssec.core.signing import SigningKey  # noqa: PLC0415

    ctx.data.identity_key.write_bytes(SigningKey.generate().to_pem())
    with pytest.raises(ServerIdentityKeyMismatch):
        check_server_keys(ctx.data, ctx.engine)
    ctx.data.identity_key.write_bytes(key)
    check_server_keys(ctx.data, ctx.engine)


async def test_web_manager_download_and_upload_with_csrf(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    await server.login()
    page = await server.client.get("/admin/licenses")
    assert "更新要求ファイルをダウンロード" in page.text
    token = csrf_of(page.text)

    forged = await server.client.post("/admin/licenses/renewal-request", data={"csrf_token": "x"})
    assert forged.status_code == 303
    with server.app.state.server.sessionmaker() as session:
        assert session.scalars(select(LicenseRequest)).all() == []

    download = await server.client.post(
        "/admin/licenses/renewal-request", data={"csrf_token": token}
    )
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    new_end = desk.renew(contract.registration_key)
    response = _respond(desk, clock, download.content)
    files = {"response_file": ("RESP.json", response, "application/json")}

    refused = await server.client.post(
        "/admin/licenses/renewal-response", data={"csrf_token": "x"}, files=files
    )
    assert refused.status_code == 303
    assert server.slot().expires_on == contract.end

    done = await server.client.post(
        "/admin/licenses/renewal-response", data={"csrf_token": token}, files=files
    )
    assert done.status_code == 303
    page = await server.client.get("/admin/licenses")
    assert "応答ファイルを取り込みました" in page.text
    assert server.slot().expires_on == new_end

    await server.client.post(
        "/admin/licenses/renewal-response", data={"csrf_token": token}, files=files
    )
    page = await server.client.get("/admin/licenses")
    assert "取り込み済み" in page.text

    wrong = {"response_file": ("RESP.json", b"{}", "application/json")}
    await server.client.post(
        "/admin/licenses/renewal-response", data={"csrf_token": token}, files=wrong
    )
    page = await server.client.get("/admin/licenses", headers={"Accept-Language": "en"})
    # The reason in words, in the session's language (never the machine's not_a_response).
    assert (
        "could not be verified (it is not a renewal response file)" in page.text
        or "検証できませんでした（更新応答ファイルではありません）" in page.text
    )
    assert "not_a_response" not in page.text
    assert server.slot().expires_on == new_end


async def test_the_backup_carries_the_identity_key_and_a_pending_request(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    from cssec.server.storage.backup import backup_server, restore_server  # noqa: PLC0415
    from cssec.server.storage.datadir import DataDir, open_database  # noqa: PLC0415

    server, contract = await _offline_server(servers, desk, network)
    request = _request(server)
    archive = server.settings.data_dir.parent / "backup.tar"
    backup_server(server.settings, archive, now=clock.now())
    restored = DataDir(server.settings.data_dir.parent / "restored")
    restore_server(archive, restored.root, key_file=server.settings.data_dir / "backup.key")
    assert (
        restored.identity_key.read_bytes() == server.app.state.server.data.identity_key.read_bytes()
    )
    engine, _sessions = open_database(restored)
    try:
        check_server_keys(restored, engine)
    finally:
        engine.dispose()
    new_end = desk.renew(contract.registration_key)
    restored_server = servers.open(server.settings.model_copy(update={"data_dir": restored.root}))
    _import(restored_server, _respond(desk, clock, request))
    assert restored_server.slot().expires_on == new_end


async def test_racing_imports_of_one_response_apply_it_once(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    """The CLI and the Web manager importing the same response at once (threads, each on its
    own database connection): exactly one applies it, the others find it imported."""
    import threading  # noqa: PLC0415

    server, contract = await _offline_server(servers, desk, network)
    new_end = desk.renew(contract.registration_key)
    response = _respond(desk, clock, _request(server))
    racers = 4
    start = threading.Barrier(racers)
    results: list[Any] = []

    def race() -> None:
        start.wait()
        results.append(_import(server, response))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == racers
    assert sorted(r.already_imported for r in results) == [False] + [True] * (racers - 1)
    assert len(server.events("license.renewed_by_file")) == 1
    assert server.slot().expires_on == new_end
    with server.app.state.server.license_env().sessionmaker() as session:
        [row] = session.scalars(select(LicenseRequest)).all()
        assert row.imported_at is not None
        assert row.response_sha256


async def test_a_refused_import_leaves_the_request_pending(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, contract = await _offline_server(servers, desk, network)
    old_response = _respond(desk, clock, _request(server))
    clock.advance(timedelta(days=1))
    desk.renew(contract.registration_key)
    _import(server, _respond(desk, clock, _request(server)))
    with pytest.raises(UntrustedStatement):
        _import(server, old_response)
    with server.app.state.server.license_env().sessionmaker() as session:
        pending = session.scalars(
            select(LicenseRequest).where(LicenseRequest.imported_at.is_(None))
        ).all()
        assert len(pending) == 1, "the refused response's request can still be answered"
