"""Writing a license slot and its license.activated event: shared by install and by
activation, always inside the caller's one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.codes import ActivationCode
from cssec.core.errors import CssecError
from cssec.core.license import DEFAULT_GRACE_DAYS, Product
from cssec.server.licensing.replacement import Replacement
from cssec.server.licensing.statements import VerifiedStatement
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseSlot


def _name(product: Product) -> dict[str, str]:
    return {"ja": product.name_in("ja"), "en": product.name_in("en")}


def find_slot(session: Session, product: Product) -> LicenseSlot | None:
    return session.scalars(
        select(LicenseSlot).where(LicenseSlot.product == product.value)
    ).one_or_none()


def store_slot(
    session: Session,
    *,
    code: ActivationCode,
    statement: VerifiedStatement | None,
    now: datetime,
) -> LicenseSlot:
    """Put `code` into its product's slot (created when the product is new); no commit."""
    slot = find_slot(session, code.product)
    if slot is None:
        slot = LicenseSlot(product=code.product.value, consecutive_failures=0)
        session.add(slot)
    elif statement is None and slot.activation_code == code.text and slot.confirmed_online:
        # The same code again while the vendor is away: its encoded expiry is older than
        # what the vendor last confirmed, so keep the confirmed terms.
        return slot
    if slot.activation_code != code.text:
        slot.revoked_at = None  # a revocation is of one code; another code starts afresh
        slot.rejected_at = None
    slot.activation_code = code.text
    slot.activated_at = now
    slot.last_attempt = now if statement else None
    slot.consecutive_failures = 0
    slot.last_error = None
    if statement is not None:
        slot.version_type = statement.version_type.value
        slot.seats = statement.seats
        slot.expires_on = statement.contract_end
        slot.grace_days = statement.grace_days
        slot.confirmed_online = True
        slot.statement = statement.envelope
        slot.statement_issued_at = statement.issued_at
        slot.last_success = now
    else:
        slot.version_type = code.version_type.value
        slot.seats = code.seats
        slot.expires_on = code.expires_on
        slot.grace_days = DEFAULT_GRACE_DAYS
        slot.confirmed_online = False
        slot.statement = None
        slot.statement_issued_at = None
        slot.last_success = None
    return slot


def activation_event(
    session: Session,
    slot: LicenseSlot,
    *,
    now: datetime,
    actor: str,
    unconfirmed: CssecError | None = None,
    previous_code: str | None = None,
    replacement: Replacement | None = None,
) -> None:
    """The license.activated event: a warning when the code was not confirmed online, or
    when it lowered a live license (confirmed by the administrator: `replacement`)."""
    product = Product(slot.product)
    name = _name(product)
    expiry = slot.expires_on.isoformat()
    if slot.confirmed_online:
        message = {
            "ja": (
                f"{name['ja']}をアクティベートしました。"
                f"有効期限は{expiry}です（オンラインで確認済み）。"
            ),
            "en": f"{name['en']} activated (expires {expiry}, confirmed online).",
        }
    elif unconfirmed is not None:
        message = {
            "ja": (
                f"{name['ja']}をアクティベートしました。有効期限は{expiry}です。ライセンスサーバに"
                f"確認できなかったため、コードの形式と有効期限で受け付けました: "
                f"{unconfirmed.message('ja')}"
            ),
            "en": (
                f"{name['en']} activated (expires {expiry}). The license service could not "
                f"confirm it, so it was accepted on its format and expiry: "
                f"{unconfirmed.message('en')}"
            ),
        }
    else:
        message = {
            "ja": f"{name['ja']}をアクティベートしました。有効期限は{expiry}です（オフライン）。",
            "en": f"{name['en']} activated (expires {expiry}, offline).",
        }
    lowered = replacement is not None and replacement.needs_confirmation
    if replacement is not None and lowered:
        message = {
            "ja": message["ja"]
            + f"管理者の確認のうえ、以前より条件の下がるコードに置き換えました: "
            f"{replacement.summary('ja')}。",
            "en": message["en"] + f" Confirmed by the administrator, it lowered the license: "
            f"{replacement.summary('en')}.",
        }
    add_event(
        session,
        at=now,
        level=Level.INFO if unconfirmed is None and not lowered else Level.WARNING,
        kind="license.activated",
        message=message,
        details={
            "product": product.value,
            "activation_code": slot.activation_code,
            "previous_code": previous_code,
            "expires_on": expiry,
            "confirmed_online": slot.confirmed_online,
            "not_confirmed_cause": unconfirmed.code if unconfirmed else None,
            "actor": actor,
            "lowered": lowered,
            "changes": replacement.to_api() if replacement is not None else None,
        },
    )
