"""A code the vendor revoked (or signed that it never issued) is mailed to the administrator
once, in the words of the Web manager's banner: what stopped for that product alone, what
keeps working, and the way out. Before, only the banner said so: an administrator who does
not open the Web manager learnt of a revocation when updates had long stopped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.helpers.protection import setup
from tests.helpers.server import TZ_NAME, Desk, ServerFactory

from cssec.core.license import LicenseState, Product
from cssec.core.policy import stopped_operations
from cssec.server.models import LicenseSlot, MailNotice
from cssec.server.notices.license import record_license_notices


@pytest.mark.parametrize("product", list(Product), ids=lambda p: p.value)
@pytest.mark.parametrize(
    ("state", "column", "kind"),
    [
        (LicenseState.REVOKED, "revoked_at", "license.revoked"),
        (LicenseState.REJECTED, "rejected_at", "license.rejected"),
    ],
    ids=["revoked", "rejected"],
)
async def test_a_signed_refusal_is_mailed_once_as_the_banner_says_it(
    servers: ServerFactory,
    desk: Desk,
    clock: Any,
    product: Product,
    state: LicenseState,
    column: str,
    kind: str,
) -> None:
    server = (await setup(servers, desk)).server
    sessions = server.app.state.server.sessionmaker
    tz = ZoneInfo(TZ_NAME)

    def record() -> list[str]:
        with sessions() as session:  # observe_time commits on its own; the caller, the rest
            keys = record_license_notices(session, now=clock.now(), tz=tz, failure_threshold=3)
            session.commit()
            return keys

    assert record() == []  # a live license: nothing to say
    with sessions() as session, session.begin():
        slot = session.scalars(
            select(LicenseSlot).where(LicenseSlot.product == product.value)
        ).one()
        setattr(slot, column, clock.now())  # as licensing.refusals stores a signed refusal
    [key] = record()
    assert key.startswith(f"{kind}:{product.value}:")
    clock.advance(timedelta(hours=1))
    assert record() == []  # one mail per refusal, not one per tick
    with sessions() as session:
        [notice] = session.scalars(select(MailNotice)).all()
    assert notice.kind == kind
    name = {"ja": product.name_in("ja"), "en": product.name_in("en")}
    assert name["ja"] in notice.subject_ja
    assert name["en"] in notice.subject_en
    for lang in ("ja", "en"):
        body = getattr(notice, f"body_{lang}")
        stopped = stopped_operations(product, state)
        assert stopped, "a refusal stops something"
        for op in stopped:
            assert op.label(lang) in body, (lang, op.value)
        # What another product's refusal stops is never claimed.
        for op in set(stopped_operations(Product.CS, state)) - set(stopped):
            assert op.label(lang) not in body, (lang, op.value)
    assert "新しい" in notice.body_ja
    assert "new activation code" in notice.body_en
