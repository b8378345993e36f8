"""Activating codes and checking status online: the only code that changes a license slot.

Network calls run outside any database transaction (the CLI must work while `serve`
runs, on SQLite). A change is one short transaction that updates the slot and writes its
event together, so a crash at any point leaves the old license in force. Nothing from
the vendor is applied before its signature is verified with a pinned key and it is
shown to name this server and this slot's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.clock import Clock
from cssec.core.codes import parse_activation_code
from cssec.core.errors import (
    CssecError,
    ExpiredActivationCode,
    InvalidActivationCode,
    RevokedActivationCode,
    VendorUnreachable,
)
from cssec.core.license import DEFAULT_GRACE_DAYS, LicenseState, Product, license_state
from cssec.core.signing import VerifyingKey, follow_endorsements
from cssec.server.clients.seats import DEFAULT_SEAT_WINDOW_DAYS, seats_used
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.errors import UntrustedStatement, VendorKeyRequired
from cssec.server.licensing.refusals import (
    CONFIRMED_STATES,
    CodeRejected,
    CodeRevoked,
    apply_rejection,
    apply_revocation,
    confirmation_required,
    held_refusal,
)
from cssec.server.licensing.replacement import (
    ConfirmationRequired,
    Replacement,
    compare_terms,
    terms_of_slot,
)
from cssec.server.licensing.slots import activation_event, find_slot, store_slot
from cssec.server.licensing.state import slot_state
from cssec.server.licensing.statements import (
    VerifiedStatement,
    new_nonce,
    verify_envelope,
    verify_rejection,
    verify_revocation,
)
from cssec.server.licensing.trust import VendorTrust, chain_endorsements, pin_keys
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.licensing.view import SlotView, effective_today, slot_view
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseSlot
from cssec.server.storage.datadir import DataDir

VendorFactory = Callable[[], VendorClient]


@dataclass(frozen=True)
class LicenseEnv:
    """What the license services need: the database, time, the data dir and the vendor."""

    sessionmaker: sessionmaker[Session]
    clock: Clock
    tz: tzinfo
    data: DataDir
    vendor: VendorFactory | None
    seat_window_days: int = DEFAULT_SEAT_WINDOW_DAYS
    """Clients seen within this many days count against the seats (clients.seats)."""

    def seats_used(self, session: Session) -> int:
        return seats_used(session, now=self.clock.now(), window_days=self.seat_window_days)


@dataclass(frozen=True)
class CheckOutcome:
    product: Product
    ok: bool
    error: CssecError | None = None
    old_expiry: date | None = None
    new_expiry: date | None = None
    applied: str | None = None
    """"revoked" or "rejected" when the vendor's signed refusal was applied to the slot."""


def _name(product: Product) -> dict[str, str]:
    return {"ja": product.name_in("ja"), "en": product.name_in("en")}


async def trusted_keys(env: LicenseEnv, vendor: VendorClient) -> dict[str, VerifyingKey]:
    """The pinned keys. A server installed offline with a fingerprint pins, on first
    contact, the vendor keys that match it (and what their endorsements vouch for); a key
    that matches nothing given at install is never pinned (`trust.pin_keys`).

    The pin is never silent: the keys file is staged complete, the vendor.keys_pinned event
    committed, and only then the file renamed into place. A crash before the rename leaves
    the event without the pin, and the next contact pins (and logs) again.
    """
    pinned = env.data.read_vendor_trust()
    if pinned.keys:
        return pinned.keys
    trust = VendorTrust(fingerprints=tuple(pinned.fingerprints))
    if not trust:
        raise VendorKeyRequired()
    offered, endorsements = await vendor.fetch_key_set()
    keys, chain = pin_keys(trust, offered, endorsements)
    _pin(
        env, vendor.base_url, list(keys.values()), _FIRST_CONTACT, kids=list(keys),
        endorsements=chain,
    )  # fmt: skip
    return keys


async def keys_for(
    env: LicenseEnv, vendor: VendorClient, keys: Mapping[str, VerifyingKey], envelope: object
) -> Mapping[str, VerifyingKey]:
    """`keys`, or, when `envelope` is signed with a kid none of them has (the vendor rotated
    its signing key), `keys` plus the keys the vendor's endorsement chain vouches for,
    starting from a key already pinned (`core.signing.follow_endorsements`). Those are
    pinned as `trusted_keys` pins (the keys file staged, a vendor.keys_rotated event
    committed, the file put in place), with the endorsements that prove them, which
    clients are handed to follow the same chain. Nothing is learned from a key set whose
    chain does not start at a pinned key, or when the keys cannot be fetched: the envelope
    then fails verification with unknown_kid, as before, and nothing changes."""
    kid = envelope.get("kid") if isinstance(envelope, dict) else None
    if not isinstance(kid, str) or kid in keys:
        return keys
    try:
        _fetched, endorsements = await vendor.fetch_key_set()
    except VendorUnreachable:
        return keys
    learned = follow_endorsements(keys, endorsements)
    if not learned:
        return keys
    merged = {**keys, **learned}
    known = env.data.read_vendor_trust().endorsements
    chain = known + [e for e in chain_endorsements(merged, endorsements) if e not in known]
    _pin(
        env, vendor.base_url, list(merged.values()), _ROTATED, kids=list(learned),
        endorsements=chain,
    )  # fmt: skip
    return merged


_FIRST_CONTACT = (
    Level.WARNING,
    "vendor.keys_pinned",
    {
        "ja": "ライセンスサーバの公開鍵を初回接続時に取得し、インストール時に指定された指紋と"
        "一致したものを保存しました。",
        "en": "The license service's public keys were fetched on first contact; those matching "
        "the fingerprint given at install were pinned.",
    },
)
_ROTATED = (
    Level.INFO,
    "vendor.keys_rotated",
    {
        "ja": "ライセンスサーバの新しい公開鍵を、保存済みの鍵による署名で確認して追加しました。",
        "en": "The license service's new public key was verified by a pinned key's "
        "signature and added.",
    },
)


def _pin(
    env: LicenseEnv,
    vendor_url: str,
    keys: list[VerifyingKey],
    event: tuple[Level, str, dict[str, str]],
    *,
    kids: list[str],
    endorsements: list[Any],
) -> None:
    """Stage the keys file, commit the event, then put the file in place: a crash before
    the rename leaves the event without the pin, and the next contact pins (and logs)
    again; never a pin without its event."""
    staged = env.data.stage_vendor_keys(keys, endorsements=endorsements)
    level, kind, message = event
    try:
        with env.sessionmaker() as session:
            add_event(
                session,
                at=env.clock.now(),
                level=level,
                kind=kind,
                message=message,
                details={"kids": kids, "vendor_url": vendor_url},
            )
            session.commit()
        env.data.place_vendor_keys(staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


async def fetch_statement(
    env: LicenseEnv,
    vendor: VendorClient,
    *,
    code: str,
    product: Product,
    server_id: str,
    seats_used: int | None = None,
) -> VerifiedStatement:
    """The vendor's statement for `code`, verified and bound to a fresh nonce. A revoked
    code's refusal with a valid signed revocation raises CodeRevoked; without one it stays
    the vendor's plain refusal (a failed check that changes nothing); likewise a code the
    vendor did not issue, with a signed "invalid" statement, raises CodeRejected. `seats_used` (the
    clients in use) goes along for the vendor's history; it changes nothing here."""
    pinned = await trusted_keys(env, vendor)
    nonce = new_nonce()
    try:
        envelope = await vendor.status(
            activation_code=code, server_id=server_id, nonce=nonce, seats_used=seats_used
        )
    except RevokedActivationCode as refused:
        proof = refused.fields.get("revocation")
        if proof is None:
            raise
        keys = await keys_for(env, vendor, pinned, proof)
        raise CodeRevoked(
            verify_revocation(
                proof, keys, activation_code=code, server_id=server_id, product=product,
                nonce=nonce,
            )
        ) from None  # fmt: skip
    except InvalidActivationCode as refused:
        proof = refused.fields.get("refusal")
        if proof is None:
            raise  # a bare refusal: a failed check that changes nothing
        keys = await keys_for(env, vendor, pinned, proof)
        raise CodeRejected(
            verify_rejection(
                proof, keys, activation_code=code, server_id=server_id, product=product,
                nonce=nonce,
            )
        ) from None  # fmt: skip
    keys = await keys_for(env, vendor, pinned, envelope)
    return verify_envelope(
        envelope, keys, activation_code=code, server_id=server_id, product=product, nonce=nonce
    )


def _plain_fields(error: CssecError) -> dict[str, Any]:
    """The error's explaining fields that belong in a log row (no nested objects)."""
    return {k: v for k, v in error.fields.items() if isinstance(v, str | int | None)}


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
                "error": _plain_fields(error),
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
                "error": _plain_fields(error),
            },
        )


FILE_KIND = "license.renewed_by_file"
"""The event of a statement applied from an air-gapped response file (offline_renewal)."""


def _apply_statement(
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


def _apply_revocation(
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
                outcomes.append(_apply_statement(env, product, code, statement, actor=actor))
            except CodeRevoked as revoked:
                _apply_revocation(env, product, code, revoked, actor=actor)
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
