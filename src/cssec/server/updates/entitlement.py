"""Which activation code asks ActiveUpdate for each component file, and which files this
server does without.

The signed manifest names all four components and is asked for with the C/S Sec. code. The
vendor sends the Damage Cleanup template only to a Damage Cleanup Services code of a live
license (`core.policy.licensing_product`; 403 `product_not_licensed` otherwise). So the
template is asked for with the DCS slot's code while that slot allows handing the template
out, and not asked for at all when the site has no DCS slot or it has lapsed: the server
keeps the template it holds and updates the rest. Such a template is *withheld*: the
current manifest names it, the server does not hold its file, its clients are refused it
(`product_not_licensed`, so they keep theirs) and the update log and the components page
do not count it as installed. None of this is a failure of the C/S Sec. update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.components import Manifest
from cssec.core.errors import CssecError, LicenseExpired, RevokedActivationCode
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, decide, distribution_operation, licensing_product
from cssec.server.licensing.state import license_states
from cssec.server.models import LicenseSlot
from cssec.server.updates.store import ComponentStore

Codes = Mapping[Component, str | None]
"""Per component: the code to ask with, or None (not asked). A component not in the
mapping is asked for with the C/S Sec. code."""


def separately_licensed(component: Component) -> bool:
    """Whether another product than C/S Sec. licenses `component`'s download."""
    return licensing_product(component) is not Product.CS


def download_codes(session: Session, *, now: datetime, tz: tzinfo) -> dict[Component, str | None]:
    """The code of each separately licensed component (the template: the DCS slot's code
    while that slot's state allows distributing it; None without a slot, or lapsed)."""
    states = license_states(session, now=now, tz=tz)
    slots = {
        Product(slot.product): slot.activation_code
        for slot in session.scalars(select(LicenseSlot)).all()
    }
    codes: dict[Component, str | None] = {}
    for component in Component:
        product = licensing_product(component)
        if product is Product.CS:
            continue
        state = states.get(product, LicenseState.EXPIRED)
        live = decide(product, state, distribution_operation(component)).allowed
        codes[component] = slots.get(product) if live else None
    return codes


def refused_to_this_site(component: Component, error: CssecError) -> bool:
    """The vendor's refusal of one separately licensed file (its product's code revoked,
    expired or not live there): that file is withheld, the rest of the update goes on."""
    refusal = isinstance(error, LicenseExpired | RevokedActivationCode)
    return refusal and separately_licensed(component)


def withheld(
    manifest: Manifest, store: ComponentStore, fetched: Iterable[Component]
) -> set[Component]:
    """The separately licensed components of `manifest` this server will not hold once
    `fetched` is written: not fetched now and not already stored."""
    got = set(fetched)
    return {
        component
        for component, version in manifest.components.items()
        if separately_licensed(component) and component not in got and not store.present(version)
    }


def held_versions(manifest: Manifest | None, store: ComponentStore) -> dict[Component, int]:
    """The version of each component of `manifest` that this server holds (a withheld
    template is left out: its clients cannot get it here)."""
    if manifest is None:
        return {}
    return {
        component: version.version
        for component, version in manifest.components.items()
        if not separately_licensed(component) or store.present(version)
    }


def withheld_note(moved: Iterable[Component], held: Mapping[Component, int]) -> dict[str, str]:
    """The sentences an update's log message ends with when it leaves out a new version of a
    separately licensed component (`moved`: what the new set changes; `held`: what this
    server holds of it), empty otherwise: why the template did not move, said once, in the
    update that left it."""
    missing = [c for c in moved if separately_licensed(c) and c not in held]
    if not missing:
        return {"ja": "", "en": ""}
    ja = "".join(
        f"{c.label('ja')}の新しいバージョンは、{licensing_product(c).name_in('ja')}の"
        "ライセンスが有効でないためダウンロードしていません。"
        for c in missing
    )
    en = " ".join(
        f"The new {c.label('en')} was not downloaded: no live "
        f"{licensing_product(c).name_in('en')} license."
        for c in missing
    )
    return {"ja": f"。{ja}", "en": f". {en}"}
