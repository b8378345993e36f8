"""One state, per product, everywhere (issue 21): for each product and each state the
vendor's word or the dates can put its slot in, what the Web manager's banner lists as
stopped is exactly what the gates refuse, in Japanese and in English.

`test_policy_gates` walks every operation for C/S Sec. in the date states (activated, grace,
expired) against the real endpoints. This walks the same probes for the states the vendor
signs (revoked, rejected), the offline state (unconfirmed), and Damage Cleanup Services in
each lapsed state, and reads the banner off the rendered page: an operation is refused by
its endpoint if and only if the banner names it. Reproduction 4 is the DCS rows (a DCS-only
revocation once listed every C/S Sec. distribution as stopped while all of them went on).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.helpers.protection import setup
from tests.helpers.server import Desk, ServerFactory, SwitchableTransport, csrf_of
from tests.server.test_policy_gates import PROBES, SpyTable, Walk

from cssec.core import policy
from cssec.core.license import LicenseState, Product, VersionType, grace_end
from cssec.core.policy import GOVERNED, Operation, decide_all, stopped_operations
from cssec.server.licensing.view import SlotView
from cssec.server.models import LicenseSlot
from cssec.server.webmanager.banners import license_banner

CASES = [
    (Product.CS, LicenseState.REVOKED),
    (Product.CS, LicenseState.REJECTED),
    (Product.CS, LicenseState.UNCONFIRMED),
    (Product.DCS, LicenseState.EXPIRED),
    (Product.DCS, LicenseState.REVOKED),
]
"""The endpoint walks (a server each, so a few): the rest of the (product, state) table is
`test_every_banner_is_the_policy`, on the banner itself, and `tests/core/test_policy`."""
EXPIRY_WORDS = {"ja": ("有効期限と更新猶予期間", "期限切れ"), "en": ("grace period have ended",)}


def put_slot_in(walk: Walk, product: Product, state: LicenseState, clock: Any) -> None:
    """Put one slot in `state` the way the server would (the vendor's signed word is stored
    as revoked_at / rejected_at; dates by moving that slot's expiry), the other untouched."""
    sessions = walk.server.app.state.server.sessionmaker
    today = clock.now().date()
    with sessions() as session, session.begin():
        slot = session.scalars(
            select(LicenseSlot).where(LicenseSlot.product == product.value)
        ).one()
        if state is LicenseState.REVOKED:
            slot.revoked_at = datetime(2026, 1, 1, tzinfo=UTC)
        elif state is LicenseState.REJECTED:
            slot.rejected_at = datetime(2026, 1, 1, tzinfo=UTC)
        elif state is LicenseState.UNCONFIRMED:
            slot.confirmed_online = False
        elif state is LicenseState.GRACE_PERIOD:
            slot.expires_on = today - timedelta(days=1)
        elif state is LicenseState.EXPIRED:
            slot.expires_on = today - timedelta(days=slot.grace_days + 1)
            assert grace_end(slot.expires_on, slot.grace_days) < today


def banner_items(page: str) -> dict[str, list[str]]:
    """Each license banner's listed items (data-banner kind → labels), as the page shows."""
    found: dict[str, list[str]] = {}
    for kind, body in re.findall(
        r'data-banner="(license-[a-z0-9-]+)"[^>]*>(.*?)</div>', page, flags=re.S
    ):
        items = re.search(r'<p class="items"><span>[^<]*</span>(.*?)</p>', body, flags=re.S)
        text = html.unescape(re.sub(r"\s+", " ", items.group(1))).strip() if items else ""
        found[kind] = [t.strip() for t in re.split(r"、|, (?=[A-Z])", text) if t.strip()]
    return found


async def page_in(walk: Walk, lang: str, path: str = "/dashboard") -> str:
    token = csrf_of((await walk.server.client.get("/dashboard")).text)
    await walk.server.client.post("/language", data={"lang": lang, "csrf_token": token})
    page = await walk.server.client.get(path)
    assert page.status_code == 200
    return str(page.text)


@pytest.mark.parametrize(("product", "state"), CASES, ids=lambda v: str(v.value))
async def test_banner_lists_exactly_what_the_gates_refuse(
    servers: ServerFactory,
    desk: Desk,
    clock: Any,
    network: SwitchableTransport,
    monkeypatch: pytest.MonkeyPatch,
    product: Product,
    state: LicenseState,
) -> None:
    walk = Walk(setup=await setup(servers, desk), network=network)
    # The install's C/S Sec. code brings three components; the DCS code the template.
    await walk.server.app.state.component_poller.update_now(actor="test")
    put_slot_in(walk, product, state, clock)
    listed = (await walk.server.api("GET", "/api/v1/licenses")).json()
    by_product = {row["product"]: row for row in listed}
    assert by_product[product.value]["status"] == state.value
    other = Product.DCS if product is Product.CS else Product.CS
    assert by_product[other.value]["status"] == "activated"

    spy = SpyTable(policy.POLICY_TABLE)
    monkeypatch.setattr(policy, "_TABLE", spy)
    refused = set()
    for op in Operation:
        spy.asked.clear()
        if not await PROBES[op](walk):
            refused.add(op)
        if op in GOVERNED[product]:
            assert (product, state, op) in spy.asked, f"{op.value}: never asked {product.value}"
    stopped = stopped_operations(product, state)
    assert refused == set(stopped)
    states = {Product(row["product"]): LicenseState(row["status"]) for row in listed}
    assert refused == {op for op in Operation if not decide_all(states, op).allowed}
    assert by_product[product.value]["stopped"] == [op.value for op in stopped]

    for lang in ("ja", "en"):
        page = await page_in(walk, lang)
        banners = banner_items(page)
        if stopped:
            [(kind, items)] = [(k, v) for k, v in banners.items() if "seats" not in k]
            assert items == [op.label(lang) for op in stopped], (kind, lang)
            badge = re.search(r'<a class="state state-revoked"[^>]*>([^<]*)</a>', page)
            assert badge is not None
            if product is Product.DCS:
                # Reproduction 4: nothing says the C/S Sec. license lapsed.
                assert badge.group(1) not in ("ライセンス失効", "License revoked")
                assert product.name_in(lang) in badge.group(1)
                assert 'data-testid="revoked-badge"' not in page
        else:
            for items in banners.values():
                assert set(items) <= {op.label(lang) for op in GOVERNED[product]}
            assert '<a class="state state-revoked"' not in page
        if state in (LicenseState.REVOKED, LicenseState.REJECTED):
            text = html.unescape(re.sub(r"<[^>]+>", " ", page))
            for word in EXPIRY_WORDS[lang]:
                assert word not in text, (lang, word)
    if state is LicenseState.UNCONFIRMED:
        licenses_ja = await page_in(walk, "ja", "/admin/licenses")
        assert "ライセンスサーバでまだ確認されていません" in licenses_ja
        licenses_en = await page_in(walk, "en", "/admin/licenses")
        assert "not yet confirmed by the license server" in licenses_en


@pytest.mark.parametrize("product", list(Product))
@pytest.mark.parametrize("state", list(LicenseState))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_banner_is_the_policy(product: Product, state: LicenseState, lang: str) -> None:
    """Every (product, state): the banner lists what the policy refuses (or, before a lapse,
    what will stop), never a stop of an operation the product does not govern, and a revoked
    or refused license's banner never speaks of expiry."""
    today = datetime(2026, 12, 7, tzinfo=UTC).date()
    view = SlotView(
        product=product,
        activation_code="CS2006" + "0" * 25,
        version_type=VersionType.FULL,
        seats=5,
        expires_on=today + timedelta(days=20),
        grace_days=30,
        state=state,
        today=today,
        confirmed_online=state is not LicenseState.UNCONFIRMED,
        last_success=None,
        last_attempt=None,
        last_error=None,
    )
    banner = license_banner(view)
    stopped = stopped_operations(product, state)
    assert banner is not None  # 20 days before the expiry, or lapsed: always a banner
    items = [item[lang] for item in banner.items]
    if stopped:
        assert items == [op.label(lang) for op in stopped]
        assert banner.badge is not None
        assert product.name_in(lang) in banner.badge[lang] or product is Product.CS
    else:
        assert items == [op.label(lang) for op in Operation if op in GOVERNED[product]]
        assert banner.badge is None
    assert set(items) <= {op.label(lang) for op in GOVERNED[product]}
    if state in (LicenseState.REVOKED, LicenseState.REJECTED):
        words = " ".join([banner.title[lang], *(p[lang] for p in banner.body)])
        for word in EXPIRY_WORDS[lang]:
            assert word not in words
