"""新規入力 of a code that would lower a live license: shown, confirmed, logged as a warning."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.helpers.server import Desk, ServerFactory, SwitchableTransport, foreign_code

from cssec.core.clock import FakeClock
from cssec.core.license import LicenseState, Product
from cssec.server.licensing.replacement import (
    ConfirmationRequired,
    Terms,
    compare_terms,
)


def _terms(expires: date, seats: int, contract: int | None) -> Terms:
    return Terms(Product.CS, expires, seats, contract, "A" if contract == 1 else "B")


def test_worse_fields_are_earlier_expiry_fewer_seats_and_another_contract() -> None:
    before = _terms(date(2027, 12, 1), 25, 1)
    worse = compare_terms(before, _terms(date(2026, 11, 19), 10, 2), current=LicenseState.ACTIVATED)
    assert [c.field for c in worse.worse] == ["expires_on", "seats", "contract"]
    assert worse.needs_confirmation
    assert "2027-12-01 → 2026-11-19" in worse.summary("ja")
    better = compare_terms(before, _terms(date(2028, 12, 1), 30, 1), current=LicenseState.ACTIVATED)
    assert not better.worse
    unknown = compare_terms(before, _terms(date(2028, 12, 1), 25, None), current=None)
    assert not unknown.worse, "offline the contract is unknown, not another one"
    lapsed = compare_terms(before, _terms(date(2026, 11, 19), 10, 2), current=LicenseState.EXPIRED)
    assert lapsed.worse
    assert not lapsed.needs_confirmation, "nothing left to lose"
    assert not compare_terms(None, before, current=None).worse


async def test_api_needs_confirm_for_another_contracts_worse_code(
    servers: ServerFactory, desk: Desk
) -> None:
    mine = desk.contract(months=24, seats=25)
    theirs = desk.contract(months=6, seats=10, customer="株式会社よそ")
    server = await servers.start(activation_code=mine.codes["CS"])
    before = server.slot()

    refused = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": theirs.codes["CS"]}
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "confirmation_required"
    worse = {c["field"]: c for c in body["changes"] if c["worse"]}
    assert set(worse) == {"expires_on", "seats", "contract"}
    assert worse["seats"] == {"field": "seats", "before": 25, "after": 10, "worse": True}
    assert worse["contract"]["before"] == mine.contract_id
    assert worse["contract"]["after"] == theirs.contract_id
    assert "条件が下がります" in body["message"]
    after = server.slot()
    assert (after.activation_code, after.expires_on, after.seats) == (
        before.activation_code,
        before.expires_on,
        before.seats,
    ), "nothing changes before the confirmation"
    assert [e.details["actor"] for e in server.events("license.activated")] == ["install"]

    confirmed = await server.api(
        "POST",
        "/api/v1/licenses/activation-code",
        json={"activation_code": theirs.codes["CS"], "confirm": True},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["seats"] == 10
    event = server.events("license.activated")[-1]
    assert event.level == "warning"
    assert event.details["lowered"] is True
    assert "条件の下がる" in event.message_ja
    assert "lowered the license" in event.message_en


async def test_a_better_code_of_the_same_contract_needs_no_confirmation(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    desk.renew(contract.registration_key)
    code = desk.reissue(contract.registration_key)
    ok = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": code}
    )
    assert ok.status_code == 200, ok.text
    event = server.events("license.activated")[-1]
    assert event.level == "info"
    assert event.details["lowered"] is False
    assert {c["field"] for c in event.details["changes"] if c["worse"]} == set()


async def test_offline_an_earlier_code_needs_confirmation(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"], offline=True)
    network.mode = "down"
    earlier = foreign_code(expires_on=contract.end - timedelta(days=60), seats=25)
    refused = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": earlier}
    )
    assert refused.status_code == 409
    assert [c["field"] for c in refused.json()["changes"] if c["worse"]] == ["expires_on"]


async def test_an_expired_license_is_replaced_without_confirmation(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    old = desk.contract(months=1)
    server = await servers.start(activation_code=old.codes["CS"])
    clock.set(datetime.combine(old.end + timedelta(days=40), datetime.min.time(), tzinfo=UTC))
    new = desk.contract(months=12, seats=5, customer="株式会社あたらしい")
    ok = await server.api(
        "POST", "/api/v1/licenses/activation-code", json={"activation_code": new.codes["CS"]}
    )
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_web_form_shows_the_changes_then_replaces_on_confirmation(
    servers: ServerFactory, desk: Desk, lang: str
) -> None:
    mine = desk.contract(months=24, seats=25)
    theirs = desk.contract(months=6, seats=10, customer="株式会社よそ")
    server = await servers.start(activation_code=mine.codes["CS"])
    await server.login()
    await server.client.post("/language", data={"lang": lang, "csrf_token": await server.csrf()})

    page = await server.activate_form(theirs.codes["CS"])
    assert page.status_code == 200
    assert 'data-testid="replacement-changes"' in page.text
    worse = re.findall(r'<tr data-field="(\w+)" class="worse">', page.text)
    assert worse == ["expires_on", "seats", "contract"]
    assert "株式会社よそ" in page.text
    assert server.slot().activation_code != theirs.codes["CS"].replace("-", "")

    done = await server.activate_form(theirs.codes["CS"], confirm=True)
    assert done.status_code == 303
    assert server.slot().seats == 10
    licenses = await server.client.get("/admin/licenses")
    assert 'data-testid="flash-warning"' in licenses.text


def test_confirmation_required_speaks_both_languages() -> None:
    before = _terms(date(2027, 12, 1), 25, 1)
    error = ConfirmationRequired(
        compare_terms(before, _terms(date(2026, 11, 19), 25, 1), current=LicenseState.ACTIVATED)
    )
    assert error.status == 409
    assert "有効期限 2027-12-01 → 2026-11-19" in error.message("ja")
    assert "Expiry date 2027-12-01 → 2026-11-19" in error.message("en")
    assert error.to_dict("en")["changes"][1]["field"] == "expires_on"
