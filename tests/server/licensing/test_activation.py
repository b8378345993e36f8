"""The FAQ's license scenarios through the JSON API, against an in-process vendor, with a
fake clock across expiry, grace and renewal, online and offline."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.helpers.server import START, Desk, ServerFactory, SwitchableTransport, foreign_code

from cssec.core.clock import FakeClock
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.licensing import activation as license_manager
from cssec.server.licensing.state import cs_license_state
from cssec.vendor_service.services import issue_replacement_code


def _day(clock: FakeClock, day: date, hour: int = 12) -> None:
    """Noon in Tokyo on `day` (03:00 UTC)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    clock.set(datetime(day.year, day.month, day.day, hour - 9, 0, tzinfo=UTC))


async def test_api_requires_admin(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    anonymous = await server.client.get("/api/v1/licenses")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = await server.client.get("/api/v1/licenses", auth=("admin", "wrong password"))
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "login_failed"
    ok = await server.api("GET", "/api/v1/licenses")
    assert ok.status_code == 200


async def test_api_with_the_web_session_needs_the_csrf_header(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    assert (await server.client.get("/api/v1/licenses")).status_code == 200
    refused = await server.client.post("/api/v1/licenses/check-online")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    token = await server.csrf()
    ok = await server.client.post("/api/v1/licenses/check-online", headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


async def test_labels_follow_the_request_language(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    ja = (await server.api("GET", "/api/v1/licenses", lang="ja")).json()
    en = (await server.api("GET", "/api/v1/licenses", lang="en")).json()
    assert [s["product_name"] for s in ja] == ["C/S Sec.", "ウイルス感染復旧サービス"]
    assert [s["product_name"] for s in en] == ["C/S Sec.", "Damage Cleanup Services"]
    assert {s["version_type"] for s in ja} == {"製品版"}
    assert {s["version_type"] for s in en} == {"Full version"}
    assert [s["activation_code"] for s in ja] == [contract.codes["CS"], contract.codes["DCS"]]


async def test_state_is_computed_on_every_read(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    """activated → grace → expired with the clock alone: no restart, no stored state."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])

    async def status() -> str:
        return str((await server.api("GET", "/api/v1/licenses")).json()[0]["status"])

    _day(clock, contract.end)
    assert await status() == "activated"
    _day(clock, contract.end + timedelta(days=1))
    assert await status() == "grace_period"
    _day(clock, contract.end + timedelta(days=30))
    assert await status() == "grace_period"
    _day(clock, contract.end + timedelta(days=31))
    assert await status() == "expired"


async def test_online_renewal_by_status_check(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    """FAQ: renew the contract, press ステータスをオンラインで確認, the expiry moves."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    _day(clock, contract.end + timedelta(days=40))
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"

    new_end = desk.renew(contract.registration_key)
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 200
    [slot] = response.json()
    assert slot["expires_on"] == new_end.isoformat()
    assert slot["status"] == "activated"
    assert slot["activation_code"] == contract.codes["CS"], "the same code, a later expiry"
    [event] = server.events("license.check_succeeded")
    assert event.details["old_expiry"] == contract.end.isoformat()
    assert event.details["new_expiry"] == new_end.isoformat()


async def test_offline_renewal_by_a_new_code(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    """FAQ (no Internet): renew, get a new code from support, enter it: new expiry at once."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"], offline=True)
    network.mode = "down"
    _day(clock, contract.end + timedelta(days=5))
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "grace_period"

    new_end = desk.renew(contract.registration_key)
    new_code = desk.reissue(contract.registration_key)
    response = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": new_code}
    )
    assert response.status_code == 200, response.text
    assert response.json()["activation_code"] == new_code
    assert response.json()["expires_on"] == new_end.isoformat()
    # Accepted on its structure and check character; the page says it is not yet confirmed.
    assert response.json()["status"] == "unconfirmed"
    assert response.json()["stopped"] == []
    [event] = [e for e in server.events("license.activated") if e.details["actor"] == "admin"]
    assert event.level == "warning"
    assert event.details["confirmed_online"] is False
    assert event.details["not_confirmed_cause"] == "vendor_unreachable"
    assert "確認できなかった" in event.message_ja


async def test_new_code_online_is_verified_by_status(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    new_end = desk.renew(contract.registration_key)
    new_code = desk.reissue(contract.registration_key)
    before = len(network.requests)
    response = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": new_code.lower()}
    )
    assert response.status_code == 200
    assert "POST /api/v1/status" in network.requests[before:]
    assert response.json()["expires_on"] == new_end.isoformat()
    assert server.slot().confirmed_online


async def test_refused_codes_change_nothing(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(activation_code=contract.codes["CS"])
    before = (await server.api("GET", "/api/v1/licenses")).json()
    code = contract.codes["CS"]
    typo = code[:12] + ("A" if code[12] != "A" else "B") + code[13:]
    lapsed = desk.contract(start=date(2024, 1, 1)).codes["CS"]
    revoked = desk.contract().codes["CS"]
    desk.revoke(revoked)
    cases = {
        typo: (400, "invalid_activation_code"),
        "CS-1234": (400, "invalid_activation_code"),
        lapsed: (400, "expired_activation_code"),
        revoked: (403, "revoked_activation_code"),
        foreign_code(expires_on=date(2027, 12, 31)): (400, "invalid_activation_code"),
        contract.registration_key: (400, "invalid_activation_code"),
    }
    for text, (status, code_name) in cases.items():
        response = await server.api(
            "POST", "/api/v1/licenses/activation-code", json={"activation_code": text}
        )
        assert (response.status_code, response.json()["code"]) == (status, code_name), text
        assert response.json()["message"]
    assert (await server.api("GET", "/api/v1/licenses")).json() == before
    refusals = server.events("license.activation_refused")
    assert [e.details["code"] for e in refusals] == [c for _, c in cases.values()]


async def test_error_messages_say_what_to_do_in_both_languages(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    lapsed = desk.contract(start=date(2024, 1, 1)).codes["CS"]
    for lang, words in (("ja", "ご契約を更新"), ("en", "Renew the contract")):
        response = await server.api(
            "POST",
            "/api/v1/licenses/activation-code",
            json={"activation_code": lapsed},
            lang=lang,
        )
        assert words in response.json()["message"]
        assert "2024-12-31" in response.json()["message"]


async def test_dcs_bought_later_gets_its_slot(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    dcs = desk.contract(with_dcs=True).codes["DCS"]
    response = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": dcs}
    )
    assert response.status_code == 200
    products = [s["product"] for s in (await server.api("GET", "/api/v1/licenses")).json()]
    assert products == ["CS", "DCS"]


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("down", "vendor_unreachable"),
        ("slow", "vendor_unreachable"),
        ("error", "vendor_unreachable"),
        ("garbled", "untrusted_statement"),
    ],
)
async def test_failed_check_leaves_the_license_alone(
    servers: ServerFactory,
    desk: Desk,
    network: SwitchableTransport,
    clock: FakeClock,
    mode: str,
    cause: str,
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    desk.renew(contract.registration_key)
    before = server.slot()
    clock.advance(timedelta(hours=1))
    network.mode = mode
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == cause
    assert body["results"] == {"CS": cause}
    assert body["licenses"][0]["expires_on"] == contract.end.isoformat()
    after = server.slot()
    assert (after.expires_on, after.last_success) == (before.expires_on, before.last_success)
    assert after.last_attempt == clock.now()
    assert after.consecutive_failures == 1
    [event] = server.events("license.check_failed")
    assert event.details["cause"] == cause
    assert event.level == "error"
    assert "変更されていません" in event.message_ja
    assert "unchanged" in event.message_en


async def test_a_signed_revocation_reaches_the_server_and_the_policy_acts_on_it(
    servers: ServerFactory, desk: Desk
) -> None:
    """The vendor signs a "revoked" statement bound to this request; the server shows
    失効 / revoked, logs it once, and refuses what it refuses after grace, while the rest
    keeps working. A new code lifts it."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    desk.revoke(contract.codes["CS"])
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 403
    assert response.json()["code"] == "revoked_activation_code"
    assert server.slot().expires_on == contract.end
    assert server.slot().revoked_at is not None
    listed = await server.api("GET", "/api/v1/licenses", lang="en")
    assert listed.json()[0]["status"] == "revoked"
    await server.login()
    page = await server.client.get("/admin/licenses")
    assert "失効" in page.text
    [event] = server.events("license.revoked")
    assert event.level == "error"
    assert "法人お問合せ窓口" in event.message_ja
    # A second check says nothing new.
    await server.api("POST", "/api/v1/licenses/check-online")
    assert len(server.events("license.revoked")) == 1
    # Every gate sees it: component distribution stops, the always-allowed carry on.
    with server.app.state.server.sessionmaker() as session:
        state = cs_license_state(session, now=servers.clock.now(), tz=ZoneInfo("Asia/Tokyo"))
    assert state is LicenseState.REVOKED
    assert not decide(Product.CS, state, Operation.CLIENT_MANUAL_UPDATE).allowed
    assert decide(Product.CS, state, Operation.SCAN_NOW).allowed
    # An admin at the vendor issues a new code; entering it lifts the revocation.
    with desk.vendor.session() as session:
        new = issue_replacement_code(
            session, contract.codes["CS"], actor="test", lift_revocation=True
        )
    activated = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": new}
    )
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "activated"
    assert server.slot().revoked_at is None


async def test_a_crash_mid_activation_keeps_the_old_license(
    servers: ServerFactory, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    new_code = desk.reissue(contract.registration_key)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(license_manager, "activation_event", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        await license_manager.activate_code(
            server.app.state.server.license_env(), new_code, actor="test"
        )
    assert server.slot().activation_code == contract.codes["CS"].replace("-", "")


async def test_clock_set_back_cannot_revive_a_license(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"], offline=True)
    _day(clock, contract.end + timedelta(days=45))
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"
    _day(clock, contract.end - timedelta(days=100))
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"
    [event] = server.events("clock.rollback")
    assert event.level == "warning"
    for said in (event.message_ja, event.message_en):  # no raw ISO time (docs/style-ja.md)
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", said), said
        assert said.count(":00 (UTC)") == 2, said
    await server.login()
    page = await server.client.get("/admin/licenses")
    assert "システム時刻が 1 日以上戻されています" in page.text
    # A small step back (under a day) is not a rollback worth a banner, but still cannot
    # move the state back.
    _day(clock, contract.end + timedelta(days=46))
    _day(clock, contract.end + timedelta(days=46), hour=10)
    assert (await server.api("GET", "/api/v1/licenses")).json()[0]["status"] == "expired"
    assert len(server.events("clock.rollback")) == 1


async def test_a_stale_statement_is_not_applied(
    servers: ServerFactory, desk: Desk, clock: FakeClock, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    # Replay: a statement older than the one already applied.
    slot = server.slot()
    assert slot.statement_issued_at is not None
    with server.app.state.server.sessionmaker() as session, session.begin():
        stored = session.merge(slot)
        stored.statement_issued_at = START + timedelta(days=365)
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 502
    assert response.json()["code"] == "untrusted_statement"
    assert server.events("license.check_failed")[0].details["error"]["reason"] == "stale_statement"


async def test_offline_install_pins_the_vendor_key_on_first_contact(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"], offline=True)
    data = server.app.state.server.data
    assert data.read_vendor_keys() == {}
    response = await server.api("POST", "/api/v1/licenses/check-online")
    assert response.status_code == 200
    assert data.read_vendor_keys()
    [event] = server.events("vendor.keys_pinned")
    assert event.level == "warning"
    assert server.slot().confirmed_online
