"""Checking status online (ステータスをオンラインで確認): the check path, by hand or on the
schedule. Entering a new code is the other path (`activation`).

Each slot's code is asked about outside any database transaction; what the vendor signed
is applied in one short transaction with its event. A failure leaves that slot exactly as
it was (its failure counted and logged); a signed revocation or rejection is acted on
(`refusals`). `apply_statement` is also what importing an air-gapped response does
(`offline_renewal`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from cssec.core.errors import CssecError, VendorUnreachable
from cssec.core.license import Product
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import UntrustedStatement, plain_fields
from cssec.server.licensing.refusals import (
    CodeRejected,
    CodeRevoked,
    apply_rejection,
    apply_revocation,
)
from cssec.server.licensing.replacement import Replacement
from cssec.server.licensing.slots import find_slot
from cssec.server.licensing.statements import VerifiedStatement
from cssec.server.licensing.vendor_status import fetch_statement
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseSlot


@dataclass(frozen=True)
class CheckOutcome:
    product: Product
    ok: bool
    error: CssecError | None = None
    old_expiry: date | None = None
    new_expiry: date | None = None
    applied: str | None = None
    """"revoked" or "rejected" when the vendor's signed refusal was applied to the slot."""
    lowered: Replacement | None = None
    """A new code put in by confirmation although it lowered the license: what got worse
    ("ライセンス数 25 → 10") is said with the new expiry (offline_renewal.ImportOutcome)."""


def _name(product: Product) -> dict[str, str]:
    return {"ja": product.name_in("ja"), "en": product.name_in("en")}


UNCHANGED = {
    "ja": "現在のライセンスは変更されていません。",
    "en": "The current license is unchanged. ",
}


def unchanged_note(error: CssecError, lang: str) -> str:
    """「現在のライセンスは変更されていません。」, unless `error` says it already."""
    note = UNCHANGED[lang]
    return "" if note.strip() in error.message(lang) else note


def _failure_message(product: Product, error: CssecError) -> dict[str, str]:
    name = _name(product)
    return {
        "ja": (
            f"{name['ja']}のステータスをオンラインで確認できませんでした。"
            f"{unchanged_note(error, 'ja')}{error.message('ja')}"
        ),
        "en": (
            f"Could not check the status of {name['en']} online. "
            f"{unchanged_note(error, 'en')}{error.message('en')}"
        ),
    }


def _record_failure(
    env: LicenseEnv, product: Product, code: str, error: CssecError, *, actor: str
) -> None:
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        slot = find_slot(session, product)
        if slot is not None and slot.activation_code == code:
            slot.last_attempt = now
            slot.consecutive_failures += 1
            slot.last_error = error.code
        add_event(
            session,
            at=now,
            level=Level.ERROR,
            kind="license.check_failed",
            message=_failure_message(product, error),
            details={
                "product": product.value,
                "cause": error.code,
                "actor": actor,
                "error": plain_fields(error),
            },
        )


FILE_KIND = "license.renewed_by_file"
"""The event of a statement applied from an air-gapped response file (offline_renewal)."""


def apply_statement(
    env: LicenseEnv,
    product: Product,
    code: str,
    statement: VerifiedStatement,
    *,
    actor: str,
    via_file: bool = False,
) -> CheckOutcome:
    """Apply a verified statement to the slot holding `code`: what an online check does,
    and what importing an air-gapped response file does (`via_file`: only the event's
    wording and kind differ)."""
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        slot = find_slot(session, product)
        if slot is None or slot.activation_code != code:
            # A new code was entered while we were asking: that activation wins.
            return CheckOutcome(product=product, ok=True)
        if slot.statement_issued_at is not None and statement.issued_at < slot.statement_issued_at:
            raise UntrustedStatement(reason="stale_statement")
        old = slot.expires_on
        slot.expires_on = statement.contract_end
        slot.grace_days = statement.grace_days
        slot.seats = statement.seats
        slot.version_type = statement.version_type.value
        slot.confirmed_online = True
        slot.rejected_at = None  # the vendor now vouches for the very code it had refused
        slot.statement = statement.envelope
        slot.statement_issued_at = statement.issued_at
        slot.last_success = now
        slot.last_attempt = now
        slot.consecutive_failures = 0
        slot.last_error = None
        name = _name(product)
        new = statement.contract_end.isoformat()
        changed = {
            "ja": f"(変更前 {old.isoformat()})" if old != statement.contract_end else "(変更なし)",
            "en": f"(was {old.isoformat()})" if old != statement.contract_end else "(unchanged)",
        }
        message = {
            "ja": (
                f"{name['ja']}のステータスをオンラインで確認しました: "
                f"有効期限 {new} {changed['ja']}。"
            ),
            "en": f"Checked {name['en']} online: expires {new} {changed['en']}.",
        }
        if via_file:
            message = {
                "ja": (
                    f"{name['ja']}のライセンス更新応答ファイルを取り込みました: "
                    f"有効期限 {new} {changed['ja']}。"
                ),
                "en": (
                    f"Imported the license response file for {name['en']}: expires {new} "
                    f"{changed['en']}."
                ),
            }
        add_event(
            session,
            at=now,
            level=Level.INFO,
            kind=FILE_KIND if via_file else "license.check_succeeded",
            message=message,
            details={
                "product": product.value,
                "old_expiry": old.isoformat(),
                "new_expiry": new,
                "vendor_state": statement.vendor_state,
                "actor": actor,
            },
        )
        return CheckOutcome(
            product=product, ok=True, old_expiry=old, new_expiry=statement.contract_end
        )


def apply_signed_revocation(
    env: LicenseEnv, product: Product, code: str, revoked: CodeRevoked, *, actor: str
) -> None:
    """`refusals.apply_revocation` with this environment's database and clock."""
    apply_revocation(env.sessionmaker, product, code, revoked, now=env.clock.now(), actor=actor)


async def check_status_online(
    env: LicenseEnv, *, products: Iterable[Product] | None = None, actor: str
) -> list[CheckOutcome]:
    """Ask the vendor for each slot's status; a failure leaves that slot exactly as it was."""
    wanted = set(products) if products is not None else None
    with env.sessionmaker() as session:
        observe_time(session, env.clock.now())
        server_id = server_info(session).server_id
        used = env.seats_used(session)
        targets = [
            (Product(slot.product), slot.activation_code)
            for slot in session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all()
            if wanted is None or Product(slot.product) in wanted
        ]
    outcomes: list[CheckOutcome] = []
    if not targets:
        return outcomes
    if env.vendor is None:
        error = VendorUnreachable(cause="no license service configured")
        for product, code in targets:
            _record_failure(env, product, code, error, actor=actor)
            outcomes.append(CheckOutcome(product=product, ok=False, error=error))
        return outcomes
    async with env.vendor() as vendor:
        for product, code in targets:
            try:
                statement = await fetch_statement(
                    env, vendor, code=code, product=product, server_id=server_id, seats_used=used
                )
                outcomes.append(apply_statement(env, product, code, statement, actor=actor))
            except CodeRevoked as revoked:
                apply_signed_revocation(env, product, code, revoked, actor=actor)
                outcomes.append(
                    CheckOutcome(product=product, ok=False, error=revoked, applied="revoked")
                )
            except CodeRejected as rejected:
                apply_rejection(
                    env.sessionmaker, product, code, rejected, now=env.clock.now(), actor=actor
                )
                outcomes.append(
                    CheckOutcome(product=product, ok=False, error=rejected, applied="rejected")
                )
            except CssecError as exc:
                _record_failure(env, product, code, exc, actor=actor)
                outcomes.append(CheckOutcome(product=product, ok=False, error=exc))
    return outcomes


def describe_outcomes(outcomes: list[CheckOutcome]) -> dict[str, Any]:
    """For logs and API errors: which product failed with which code."""
    return {o.product.value: (o.error.code if o.error else "ok") for o in outcomes}
