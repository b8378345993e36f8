"""A lapse is told as what it stops, per product: when the Damage Cleanup Services license is
in grace or expired, its banner and its mails to the administrator name only its template's
distribution, never C/S Sec.'s components and updates (which go on); a C/S Sec. lapse still
says the pattern files stop.

`tests/server/test_license_truth_table.py` checks the banner's list of stopped functions
against the gates; this reads the sentences around it, and the mails, which once listed
every C/S Sec. restriction for a DCS lapse and warned that pattern files were no longer
updated.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.helpers.protection import setup
from tests.helpers.server import TZ_NAME, Desk, ServerFactory, csrf_of

from cssec.core.license import LicenseState, Product
from cssec.core.policy import GOVERNED, RESTRICTED_AFTER_GRACE, Operation
from cssec.server.models import LicenseSlot, MailNotice
from cssec.server.notices.license import record_license_notices

CS_STOPS = {
    "ja": ("コンポーネントの配信とアップデートが停止", "パターンファイルが更新されない"),
    "en": ("component distribution and updates stop", "without new pattern files"),
}
"""What is said of a C/S Sec. lapse (in grace, or expired): false of a DCS one."""


def _banner_text(page: str) -> str:
    banners = re.findall(r'data-banner="license-[a-z0-9-]+"[^>]*>(.*?)</div>', page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", " ".join(banners))))


def _claims(text: str, product: Product, lang: str) -> None:
    """`text` names what `product`'s lapse stops, and nothing it does not stop."""
    others = [op for op in Operation if op in RESTRICTED_AFTER_GRACE - GOVERNED[product]]
    for op in GOVERNED[product]:
        assert op.label(lang) in text, (lang, op.value)
    for op in others:
        assert op.label(lang) not in text, (lang, op.value)
    if product is not Product.CS:
        assert [words for words in CS_STOPS[lang] if words in text] == [], lang


@pytest.mark.parametrize("product", list(Product), ids=lambda p: p.value)
@pytest.mark.parametrize("state", [LicenseState.GRACE_PERIOD, LicenseState.EXPIRED])
async def test_a_lapse_is_told_as_what_it_stops(
    servers: ServerFactory, desk: Desk, clock: Any, product: Product, state: LicenseState
) -> None:
    server = (await setup(servers, desk)).server
    sessions = server.app.state.server.sessionmaker
    today = clock.now().astimezone(ZoneInfo(TZ_NAME)).date()
    with sessions() as session, session.begin():
        slot = session.scalars(
            select(LicenseSlot).where(LicenseSlot.product == product.value)
        ).one()
        lapse = 1 if state is LicenseState.GRACE_PERIOD else slot.grace_days + 1
        slot.expires_on = today - timedelta(days=lapse)
    with sessions() as session, session.begin():
        record_license_notices(session, now=clock.now(), tz=ZoneInfo(TZ_NAME), failure_threshold=3)
    with sessions() as session:
        [notice] = session.scalars(select(MailNotice)).all()
    kind = "license.grace" if state is LicenseState.GRACE_PERIOD else "license.expired"
    assert notice.key.startswith(f"{kind}:{product.value}:")

    for lang in ("ja", "en"):
        token = csrf_of((await server.client.get("/dashboard")).text)
        await server.client.post("/language", data={"lang": lang, "csrf_token": token})
        page = await server.client.get("/dashboard")
        assert page.status_code == 200
        _claims(_banner_text(page.text), product, lang)
        _claims(getattr(notice, f"body_{lang}"), product, lang)
