"""Entering an activation code (新規入力): the entry path. Checking the codes already in
the slots is the other path (`online_check`).

The network call runs outside any database transaction (the CLI must work while `serve`
runs, on SQLite). The change is one short transaction that updates the slot and writes its
event together, so a crash at any point leaves the old license in force. Nothing from
the vendor is applied before its signature is verified with a pinned key and it is
shown to name this server and this slot's code (`vendor_status`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cssec.core.codes import parse_activation_code
from cssec.core.errors import CssecError, ExpiredActivationCode, VendorUnreachable
from cssec.core.license import DEFAULT_GRACE_DAYS, LicenseState, Product, license_state
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import UntrustedStatement, plain_fields
from cssec.server.licensing.refusals import CONFIRMED_STATES, confirmation_required, held_refusal
from cssec.server.licensing.replacement import (
    ConfirmationRequired,
    Replacement,
    compare_terms,
    terms_of_slot,
)
from cssec.server.licensing.slots import activation_event, find_slot, store_slot
from cssec.server.licensing.state import slot_state
from cssec.server.licensing.statements import VerifiedStatement
from cssec.server.licensing.vendor_status import fetch_statement
from cssec.server.licensing.view import SlotView, effective_today, slot_view
from cssec.server.logs.events import Level, add_event


def _record_refusal(
    env: LicenseEnv, error: CssecError, *, text: str, product: Product | None, actor: str
) -> None:
    with env.sessionmaker() as session:
        add_event(
            session,
            at=env.clock.now(),
            level=Level.WARNING,
            kind="license.activation_refused",
            message={
                "ja": f"アクティベーションコードを受け付けませんでした: {error.message('ja')}",
                "en": f"Activation code refused: {error.message('en')}",
            },
            details={
                "code": error.code,
                "input": text[:64],
                "product": product.value if product else None,
                "actor": actor,
                "error": plain_fields(error),
            },
        )
        session.commit()


@dataclass(frozen=True)
class Activation:
    """A code entered: the slot now, and what changed from the slot before."""

    slot: SlotView
    replacement: Replacement


async def activate_code(
    env: LicenseEnv,
    text: str,
    *,
    product: Product | None = None,
    actor: str,
    confirm: bool = False,
) -> SlotView:
    """Enter a new activation code; takes effect at once (`enter_code`, the slot only)."""
    entered = await enter_code(env, text, product=product, actor=actor, confirm=confirm)
    return entered.slot


async def enter_code(
    env: LicenseEnv,
    text: str,
    *,
    product: Product | None = None,
    actor: str,
    confirm: bool = False,
) -> Activation:
    """Enter a new activation code; takes effect at once.

    Order: the code's own structure and check character; then the vendor's signed status
    (whose contract end wins, since an online renewal keeps the code); when the vendor
    cannot be reached or its answer cannot be trusted, the code's encoded expiry, logged
    as not confirmed online, unless the product's slot holds the vendor's signed
    revocation or rejection: then only the vendor's signed activated / grace answer for the
    new code lets it in, and anything else is refused (`VendorConfirmationRequired`). A
    refusal changes nothing and is logged. A code that would
    lower a live license (earlier expiry, fewer seats, another contract: `replacement`)
    raises ConfirmationRequired, changing nothing, unless `confirm`; a confirmed one is
    logged as a warning.
    """
    now = env.clock.now()
    with env.sessionmaker() as session:
        time = observe_time(session, now)
        server_id = server_info(session).server_id
        used = env.seats_used(session)
    today = effective_today(time, env.tz)

    check = parse_activation_code(text, product=product)
    if not check.ok or check.value is None:
        error = check.to_error()
        _record_refusal(env, error, text=text, product=product, actor=actor)
        raise error
    code = check.value
    with env.sessionmaker() as session:
        held = held_refusal(find_slot(session, code.product))

    statement: VerifiedStatement | None = None
    unconfirmed: CssecError | None = None
    if env.vendor is not None:
        try:
            async with env.vendor() as vendor:
                statement = await fetch_statement(
                    env,
                    vendor,
                    code=code.text,
                    product=code.product,
                    server_id=server_id,
                    seats_used=used,
                )
        except (VendorUnreachable, UntrustedStatement) as exc:
            unconfirmed = exc
        except CssecError as exc:
            _record_refusal(env, exc, text=text, product=product, actor=actor)
            raise
    else:
        unconfirmed = VendorUnreachable(cause="no license service configured")
    if held is not None and (statement is None or statement.vendor_state not in CONFIRMED_STATES):
        error = _unconfirmed_refusal(code.product, held, statement, unconfirmed)
        _record_refusal(env, error, text=text, product=product, actor=actor)
        raise error

    expires_on = statement.contract_end if statement else code.expires_on
    grace_days = statement.grace_days if statement else DEFAULT_GRACE_DAYS
    if license_state(expires_on, grace_days, today) is LicenseState.EXPIRED:
        error = ExpiredActivationCode(expires_on=expires_on.isoformat())
        _record_refusal(env, error, text=text, product=product, actor=actor)
        raise error

    with env.sessionmaker() as session, session.begin():
        current = find_slot(session, code.product)
        previous = current.activation_code if current is not None else None
        before = terms_of_slot(current) if current is not None else None
        state = slot_state(current, today) if current is not None else None
        slot = store_slot(session, code=code, statement=statement, now=now)
        replacement = compare_terms(before, terms_of_slot(slot), current=state)
        if replacement.needs_confirmation and not confirm:
            raise ConfirmationRequired(replacement)  # rolls back: nothing changed
        activation_event(
            session,
            slot,
            now=now,
            actor=actor,
            unconfirmed=unconfirmed,
            previous_code=previous,
            replacement=replacement,
        )
        session.flush()
        return Activation(slot_view(slot, today, used=used), replacement)


def _unconfirmed_refusal(
    product: Product,
    held: str,
    statement: VerifiedStatement | None,
    unconfirmed: CssecError | None,
) -> CssecError:
    """Why a code for a slot holding the vendor's signed refusal is not let in: the vendor
    could not confirm it (`VendorConfirmationRequired`), or it signed a state that is not
    activated or grace (the code's contract has ended)."""
    if unconfirmed is not None or statement is None:
        return confirmation_required(
            product, held, unconfirmed or VendorUnreachable(cause="unknown")
        )
    return ExpiredActivationCode(expires_on=statement.contract_end.isoformat())
