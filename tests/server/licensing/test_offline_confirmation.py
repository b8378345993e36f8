"""A new code that arrives by file (`license request --code`, the vendor's response, `license
import`) asks the same confirmation as one typed in: a code of another contract, or with
fewer seats or an earlier end, does not silently replace a live license. The vendor side is
the real service answering the real request file; the network to it is down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport, csrf_of
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.server import cli, cli_common
from cssec.server.licensing.offline_renewal import (
    ImportConfirmationRequired,
    import_response,
    write_request,
)
from cssec.server.models import LicenseRequest
from cssec.vendor_service.services.offline_renewal import respond


def _response_for(server: Server, desk: Desk, clock: FakeClock, new_code: str) -> bytes:
    env = server.app.state.server.license_env()
    request = write_request(env, actor="test", new_code=new_code).data
    with desk.vendor.session() as session:
        return respond(session, request, actor="desk:test", now=clock.now())


async def _live_server(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, *, online: bool
) -> tuple[Server, Any]:
    """A live license of 25 seats for two years; `online`: it holds the vendor's statement,
    so its contract is known."""
    mine = desk.contract(months=24, seats=25)
    server = await servers.start(activation_code=mine.codes["CS"], offline=not online)
    network.mode = "down"
    return server, mine


def _pending(server: Server) -> int:
    with server.app.state.server.sessionmaker() as session:
        return len(
            session.scalars(
                select(LicenseRequest).where(LicenseRequest.imported_at.is_(None))
            ).all()
        )


async def test_a_code_of_another_contract_waits_for_confirmation(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, mine = await _live_server(servers, desk, network, online=True)
    theirs = desk.contract(months=6, seats=10, customer="株式会社よそ")
    before = server.slot()
    response = _response_for(server, desk, clock, theirs.codes["CS"])
    env = server.app.state.server.license_env()

    held = import_response(env, response, actor="test")
    assert not held.already_imported
    [refusal] = held.held
    assert isinstance(refusal, ImportConfirmationRequired)
    assert refusal.code == "confirmation_required"
    worse = {c["field"] for c in refusal.to_dict("en")["changes"] if c["worse"]}
    assert worse == {"expires_on", "seats", "contract"}
    after = server.slot()
    assert (after.activation_code, after.expires_on, after.seats) == (
        before.activation_code,
        before.expires_on,
        before.seats,
    ), "the slot keeps the old code"
    # The summary names the product that waits; the refusal says why, once.
    assert (
        held.message("ja")
        == "応答ファイルの取り込みには確認が必要です。C/S Sec.: 確認待ち（まだ置き換えていません）"
    )
    assert held.message("en") == "The response needs confirmation. C/S Sec.: needs confirmation"
    assert "条件が下がります" in refusal.message("ja")
    assert "ライセンス数 25 → 10" in refusal.message("ja")
    assert "license import RESP.json --confirm" in refusal.message("ja")
    assert "would lower the current license" in refusal.message("en")
    assert "Seats 25 → 10" in refusal.message("en")
    assert _pending(server) == 1, "the request can still be answered"

    done = import_response(env, response, actor="test", confirm=True)
    assert done.held == []
    assert [o.ok for o in done.outcomes] == [True]
    assert "応答ファイルを取り込みました" in done.message("ja")
    # What the confirmation gave up is said with the new expiry, not only the expiry.
    assert "ライセンス数 25 → 10" in done.message("ja")
    assert "Seats 25 → 10" in done.message("en")
    slot = server.slot()
    assert slot.activation_code == theirs.codes["CS"].replace("-", "")
    assert (slot.seats, slot.expires_on) == (10, theirs.end)
    event = server.events("license.activated")[-1]
    assert event.level == "warning"
    assert event.details["lowered"] is True
    assert _pending(server) == 0
    assert import_response(env, response, actor="test", confirm=True).already_imported
    assert mine.end > theirs.end


async def test_fewer_seats_wait_for_confirmation_offline_too(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    """Installed offline, the slot's contract is unknown: the later code of another contract
    is held for its fewer seats alone."""
    server, mine = await _live_server(servers, desk, network, online=False)
    more_time = desk.contract(months=36, seats=10, customer="株式会社よそ")
    env = server.app.state.server.license_env()
    response = _response_for(server, desk, clock, more_time.codes["CS"])

    held = import_response(env, response, actor="test")
    [refusal] = held.held
    assert [c["field"] for c in refusal.to_dict("en")["changes"] if c["worse"]] == ["seats"]
    assert server.slot().activation_code == mine.codes["CS"].replace("-", "")

    import_response(env, response, actor="test", confirm=True)
    assert server.slot().seats == 10


async def test_a_better_code_by_file_needs_no_confirmation(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    server, mine = await _live_server(servers, desk, network, online=True)
    desk.renew(mine.registration_key)
    better = desk.reissue(mine.registration_key)
    outcome = import_response(
        server.app.state.server.license_env(),
        _response_for(server, desk, clock, better),
        actor="test",
    )
    assert outcome.held == []
    assert server.slot().activation_code == better.replace("-", "")


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_web_manager_confirms_before_replacing(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    lang: str,
) -> None:
    server, mine = await _live_server(servers, desk, network, online=True)
    theirs = desk.contract(months=6, seats=10, customer="株式会社よそ")
    response = _response_for(server, desk, clock, theirs.codes["CS"])
    await server.login()
    token = await server.csrf()
    await server.client.post("/language", data={"lang": lang, "csrf_token": token})
    files = {"response_file": ("RESP.json", response, "application/json")}

    page = await server.client.post(
        "/admin/licenses/renewal-response", data={"csrf_token": token}, files=files
    )
    assert page.status_code == 200
    worse = re.findall(r'<tr data-field="(\w+)" class="worse">', page.text)
    assert worse == ["expires_on", "seats", "contract"]
    assert "株式会社よそ" in page.text
    warning = {
        "ja": "応答ファイルの新しいコードでは、現在のC/S Sec.のライセンスより条件が下がります",
        "en": "The new code in the response file would lower the current C/S Sec. license",
    }
    assert warning[lang] in page.text
    assert 'data-testid="confirm-import"' in page.text
    assert server.slot().activation_code == mine.codes["CS"].replace("-", "")
    data = re.search(r'name="response_data" value="([^"]+)"', page.text)
    assert data is not None
    fresh = csrf_of(page.text)

    forged = await server.client.post(
        "/admin/licenses/renewal-response",
        data={"csrf_token": "x", "response_data": data.group(1), "confirm": "1"},
    )
    assert forged.status_code == 303
    assert server.slot().activation_code == mine.codes["CS"].replace("-", "")

    done = await server.client.post(
        "/admin/licenses/renewal-response",
        data={"csrf_token": fresh, "response_data": data.group(1), "confirm": "1"},
    )
    assert done.status_code == 303
    assert server.slot().activation_code == theirs.codes["CS"].replace("-", "")
    licenses = await server.client.get("/admin/licenses")
    imported = {"ja": "応答ファイルを取り込みました", "en": "Response imported."}
    assert imported[lang] in licenses.text


async def test_cli_import_refuses_then_confirms(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    network: SwitchableTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, mine = await _live_server(servers, desk, network, online=True)
    theirs = desk.contract(months=6, seats=10, customer="株式会社よそ")
    monkeypatch.setattr(cli_common, "SystemClock", lambda: clock)
    monkeypatch.setattr(cli_common, "vendor_transport", lambda: network)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    runner = CliRunner()
    data = str(server.settings.data_dir)
    request = server.settings.data_dir.parent / "REQ.json"
    asked = runner.invoke(
        cli.app,
        ["license", "request", "--code", theirs.codes["CS"], "--out", str(request), "--data", data],
    )
    assert asked.exit_code == 0, asked.output
    assert "警告: 新しいコードでは現在のライセンスより条件が下がります" in asked.stderr
    assert "ライセンス数 25 → 10" in asked.stderr, "the code's own seats, before any answer"
    path = server.settings.data_dir.parent / "RESP.json"
    with desk.vendor.session() as session:
        path.write_bytes(respond(session, request.read_bytes(), actor="desk:test", now=clock.now()))
    args = ["license", "import", str(path), "--data", data]

    refused = runner.invoke(cli.app, args)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error: confirmation_required:")
    assert "ライセンス数 25 → 10" in refused.stderr
    assert "条件が下がります" not in refused.stdout, "the reason is said once, on stderr"
    assert "確認待ち" in refused.stdout
    assert server.slot().activation_code == mine.codes["CS"].replace("-", "")
    english = runner.invoke(cli.app, [*args, "--lang", "en"])
    assert "import the same response file again with confirmation" in english.stderr

    done = runner.invoke(cli.app, [*args, "--confirm"])
    assert done.exit_code == 0, done.output
    assert "応答ファイルを取り込みました" in done.stdout
    assert theirs.codes["CS"] in done.stdout
    assert server.slot().activation_code == theirs.codes["CS"].replace("-", "")
