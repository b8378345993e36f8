"""A renewal moves both products of a contract: [ステータスをオンラインで確認] on either
card checks every slot, so the Damage Cleanup card does not keep its old date until its own
check (issue 23, finding 10)."""

from __future__ import annotations

import pytest
from tests.helpers.server import Desk, ServerFactory

from cssec.core.license import Product


@pytest.mark.parametrize("pressed", ["CS", "DCS"])
async def test_one_press_after_a_renewal_refreshes_both_cards(
    servers: ServerFactory, desk: Desk, pressed: str
) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    await server.login()
    before = {p: server.slot(p).expires_on for p in ("CS", "DCS")}
    new_end = desk.renew(contract.registration_key)
    assert (await server.check_form(pressed)).status_code == 303
    after = {p: server.slot(p).expires_on for p in ("CS", "DCS")}
    assert after == {"CS": new_end, "DCS": new_end}, (before, after)
    page = (await server.client.get("/admin/licenses")).text
    assert page.count(new_end.isoformat()) >= 2
    assert Product.DCS.name_in("ja") in page
