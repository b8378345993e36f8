"""Air-gapped renewal by file: the server's request, and importing the vendor's response.

`write_request` signs a request (`core.license_files`) with the server identity key (its
server id, the slots' codes, the clients in use, a fresh nonce) and remembers the nonce as
pending (`LicenseRequest`). `import_response` takes the vendor's answer and extends the
slots exactly as an online check does: each statement is verified like one fetched online
(pinned vendor key, this server, the slot's code and product, the request's nonce) and
also bound to the request by its digest, then applied by the online check's own
`online_check.apply_statement` (a revoked code: `apply_signed_revocation`). Nothing is applied
unless every statement of the response verifies. A response for another server or another
request is refused; importing one a second time changes nothing and says so.

A server installed with only a vendor key fingerprint, that never reached the vendor, pins
the keys carried in the response that match the fingerprint (as a first online contact
would); a rotated vendor key is learned through the endorsements it carries.

The request is written by `offline_request`, the response read and verified by
`offline_response`; this module applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, update

from cssec.core.codes import parse_activation_code
from cssec.core.errors import ExpiredActivationCode
from cssec.core.license import Product
from cssec.core.license_files import parse_response
from cssec.server.licensing.clockguard import observe_time
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.offline_request import NoLicenseToRenew, WrittenRequest, write_request
from cssec.server.licensing.offline_response import (
    LicenseResponseUnknownRequest,
    LicenseResponseWrongServer,
    find_request,
    vendor_keys,
    verify_response,
)
from cssec.server.licensing.online_check import (
    CheckOutcome,
    apply_signed_revocation,
    apply_statement,
)
from cssec.server.licensing.refusals import (
    CONFIRMED_STATES,
    CodeRejected,
    CodeRevoked,
    apply_rejection,
)
from cssec.server.licensing.replacement import (
    ConfirmationRequired,
    Replacement,
    Terms,
    compare_terms,
    terms_of_code,
    terms_of_slot,
)
from cssec.server.licensing.slots import activation_event, find_slot, store_slot
from cssec.server.licensing.state import slot_state
from cssec.server.licensing.statements import VerifiedStatement
from cssec.server.licensing.view import effective_today
from cssec.server.models import LicenseRequest, LicenseSlot


class ImportConfirmationRequired(ConfirmationRequired):
    """A new code in a response file would lower a live license: that slot is unchanged, and
    the way on is the same file imported again, confirmed."""

    def text(self, lang: str, summary: str) -> str:
        if lang == "en":
            return (
                "The new activation code in the response file would lower the current "
                f"license: {summary}. The current license is unchanged. To replace it anyway, "
                "import the same response file again with confirmation (command line: "
                "cssec server license import RESP.json --confirm; Web manager: the "
                "confirmation page)."
            )
        return (
            "応答ファイルの新しいアクティベーションコードでは、現在のライセンスより条件が"
            f"下がります: {summary}。現在のライセンスは変更されていません。それでも置き換える"
            "場合は、同じ応答ファイルを確認のうえもう一度取り込んでください。コマンドでは"
            "「cssec server license import RESP.json --confirm」を実行し、Webマネージャでは"
            "確認画面で取り込みます。"
        )


_WAITS = {"ja": "確認待ち（まだ置き換えていません）", "en": "needs confirmation"}


@dataclass(frozen=True)
class ImportOutcome:
    """What importing a response did: `already_imported` when it changed nothing because
    this response (or another to the same request) was imported at `imported_at`."""

    already_imported: bool
    outcomes: list[CheckOutcome] = field(default_factory=list)
    imported_at: datetime | None = None

    @property
    def held(self) -> list[ImportConfirmationRequired]:
        """New codes left out until the import is confirmed (the request stays pending)."""
        return [o.error for o in self.outcomes if isinstance(o.error, ImportConfirmationRequired)]

    def message(self, lang: str) -> str:
        if self.already_imported:
            at = f"{self.imported_at:%Y-%m-%d %H:%M:%S}" if self.imported_at else "-"
            if lang == "en":
                return f"This response was already imported (at {at} UTC); nothing was changed."
            return f"この応答ファイルは{at}（UTC）に取り込み済みです。何も変更していません。"
        parts = []
        for outcome in self.outcomes:
            name = outcome.product.name_in(lang)
            if isinstance(outcome.error, ImportConfirmationRequired):
                # Said once, in whole, where it is asked (the CLI's error line, the Web
                # manager's confirm page); here only which product waits.
                waits = {"en": "needs confirmation", "ja": "確認待ち（まだ置き換えていません）"}[
                    lang
                ]
                parts.append(f"{name}: {waits}")
            elif outcome.error is not None:
                parts.append(f"{name}: {outcome.error.message(lang)}")
            elif outcome.new_expiry is not None:
                new = outcome.new_expiry.isoformat()
                part = f"{name}: expires on {new}" if lang == "en" else f"{name}: 有効期限 {new}"
                if outcome.lowered is not None:  # confirmed: say what the customer gave up
                    changes = outcome.lowered.summary(lang)
                    part += f" ({changes})" if lang == "en" else f"（{changes}）"
                parts.append(part)
        if lang == "en":
            lead = "The response needs confirmation." if self.held else "Response imported."
            return " ".join([lead, "; ".join(parts)]).strip()
        lead = (
            "応答ファイルの取り込みには確認が必要です。"
            if self.held
            else "応答ファイルを取り込みました。"
        )
        return lead + "、".join(parts)


def import_response(
    env: LicenseEnv, data: bytes, *, actor: str, confirm: bool = False
) -> ImportOutcome:
    """Apply a response file (see the module docstring). Raises InvalidLicenseResponse
    (malformed, altered, not bound to the request), LicenseResponseWrongServer,
    LicenseResponseUnknownRequest; a response whose statement is older than the slot's
    raises UntrustedStatement (stale_statement), as an online check would. `confirm`: put a
    new code in even when it lowers a live license (else it is held: `ImportOutcome.held`)."""
    response = parse_response(data)
    server_id, request = find_request(env, response)
    if request.imported_at is not None:
        return ImportOutcome(already_imported=True, imported_at=request.imported_at)
    keys = vendor_keys(env, response)
    verified = verify_response(response, keys, server_id=server_id, request=request)
    now = env.clock.now()
    if not _claim(env, request.id, now=now, actor=actor, digest=response.digest):
        with env.sessionmaker() as session:
            imported_at = session.scalar(
                select(LicenseRequest.imported_at).where(LicenseRequest.id == request.id)
            )
        return ImportOutcome(already_imported=True, imported_at=imported_at)
    outcomes: list[CheckOutcome] = []
    new_codes = {c["activation_code"] for c in request.codes if c.get("new")}
    try:
        for product, code, result in verified:
            if code in new_codes:
                outcomes.append(
                    apply_new_code(env, product, code, result, actor=actor, confirm=confirm)
                )
            elif isinstance(result, CodeRejected):
                apply_rejection(
                    env.sessionmaker, product, code, result, now=env.clock.now(), actor=actor
                )
                outcomes.append(
                    CheckOutcome(product=product, ok=False, error=result, applied="rejected")
                )
            elif isinstance(result, CodeRevoked):
                apply_signed_revocation(env, product, code, result, actor=actor)
                outcomes.append(CheckOutcome(product=product, ok=False, error=result))
            else:
                outcomes.append(
                    apply_statement(env, product, code, result, actor=actor, via_file=True)
                )
    except BaseException:  # e.g. a stale statement: the request stays pending, as before
        _release(env, request.id, digest=response.digest)
        raise
    outcome = ImportOutcome(already_imported=False, outcomes=outcomes, imported_at=now)
    if outcome.held:  # answerable again, confirmed; the rest re-applies as the same statements
        _release(env, request.id, digest=response.digest)
    return outcome


def _claim(env: LicenseEnv, request_id: int, *, now: datetime, actor: str, digest: str) -> bool:
    """Mark the request imported if it still is pending, in one conditional UPDATE: of
    imports racing (the CLI and the Web manager, two uploads), exactly one gets True and
    applies the response; the others find it imported and change nothing."""
    with env.sessionmaker() as session, session.begin():
        claimed = session.execute(
            update(LicenseRequest)
            .where(LicenseRequest.id == request_id, LicenseRequest.imported_at.is_(None))
            .values(imported_at=now, imported_by=actor[:64], response_sha256=digest)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(claimed, "rowcount", 0) == 1)


def _release(env: LicenseEnv, request_id: int, *, digest: str) -> None:
    with env.sessionmaker() as session, session.begin():
        session.execute(
            update(LicenseRequest)
            .where(LicenseRequest.id == request_id, LicenseRequest.response_sha256 == digest)
            .values(imported_at=None, imported_by=None, response_sha256=None)
            .execution_options(synchronize_session=False)
        )


__all__ = [
    "ImportConfirmationRequired",
    "ImportOutcome",
    "LicenseResponseUnknownRequest",
    "LicenseResponseWrongServer",
    "NoLicenseToRenew",
    "WrittenRequest",
    "import_response",
    "write_request",
]


def apply_new_code(
    env: LicenseEnv,
    product: Product,
    code: str,
    result: VerifiedStatement | CodeRevoked | CodeRejected,
    *,
    actor: str,
    confirm: bool = False,
) -> CheckOutcome:
    """A code asked for by file (`write_request(new_code=…)`), put into its slot only on the
    vendor's signed activated / grace answer for it (the file is the vendor's confirmation);
    any other answer leaves the slot as it is and is reported. Like a code typed in, one
    whose signed terms would lower a live license is held unless `confirm`."""
    if isinstance(result, CodeRevoked | CodeRejected):
        return CheckOutcome(product=product, ok=False, error=result)
    if result.vendor_state not in CONFIRMED_STATES:
        error = ExpiredActivationCode(expires_on=result.contract_end.isoformat())
        return CheckOutcome(product=product, ok=False, error=error)
    check = parse_activation_code(code, product=product)
    assert check.value is not None  # parsed when the request was written
    now = env.clock.now()
    with env.sessionmaker() as session:
        today = effective_today(observe_time(session, now), env.tz)
    with env.sessionmaker() as session, session.begin():
        current = find_slot(session, product)
        replacement = _replacement(
            current, compare_with=terms_of_code(check.value, result), today=today
        )
        if replacement.needs_confirmation and not confirm:
            held = ImportConfirmationRequired(replacement)
            return CheckOutcome(product=product, ok=False, error=held)
        previous = current.activation_code if current is not None else None
        old = current.expires_on if current is not None else None
        slot = store_slot(session, code=check.value, statement=result, now=now)
        activation_event(
            session, slot, now=now, actor=actor, previous_code=previous, replacement=replacement
        )
    lowered = replacement if replacement.needs_confirmation else None
    return CheckOutcome(
        product=product, ok=True, old_expiry=old, new_expiry=result.contract_end, lowered=lowered
    )


def _replacement(current: LicenseSlot | None, *, compare_with: Terms, today: date) -> Replacement:
    """The slot's terms now against the new code's as the vendor signed them."""
    if current is None:
        return compare_terms(None, compare_with, current=None)
    return compare_terms(terms_of_slot(current), compare_with, current=slot_state(current, today))
