"""The vendor's signed refusals acted on (a revocation; "not ours", state invalid / unknown),
and the rule that follows from either: a new code for that product must be confirmed.

A signed, nonce-bound rejection puts the slot in `rejected` (one system event), exactly as a
signed revocation puts it in `revoked` (`online_check.apply_signed_revocation`); a bare
`invalid_activation_code` (which anyone on the path could send) changes nothing. While a
slot holds either, a code entered for that product takes effect only on the vendor's
signed activated / grace answer for it: typed in while the vendor is unreachable or
impersonated, it is refused (`VendorConfirmationRequired`), so a self-made code cannot
undo the vendor's word.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from cssec.core.errors import CssecError, InvalidActivationCode, RevokedActivationCode
from cssec.core.license import LicenseState, Product
from cssec.core.policy import stopped_operations
from cssec.server.licensing.errors import VendorConfirmationRequired
from cssec.server.licensing.slots import find_slot
from cssec.server.licensing.statements import VerifiedRejection, VerifiedRevocation
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseSlot

CONFIRMED_STATES = frozenset({"activated", "grace_period"})
"""The vendor states that confirm a new code on a slot holding a signed refusal."""


class CodeRevoked(RevokedActivationCode):
    """The vendor's signed, nonce-bound word that the code was revoked: acted on (the slot
    shows 失効 / revoked), unlike a bare refusal, which anyone on the path could send."""

    def __init__(self, revocation: VerifiedRevocation) -> None:
        super().__init__(revoked_at=revocation.revoked_at.isoformat())
        self.revocation = revocation


class CodeRejected(InvalidActivationCode):
    """The vendor's signed, nonce-bound word that the code is not one it issued: acted on
    (the slot shows 無効 / rejected), unlike a bare refusal."""

    def __init__(self, rejection: VerifiedRejection) -> None:
        super().__init__(
            detail_ja="ライセンスサーバが発行していないコードです。署名付きで回答されました",
            detail_en="the license server signed that it never issued it",
            reason="rejected_by_vendor",
        )
        self.rejection = rejection


def held_refusal(slot: LicenseSlot | None) -> str | None:
    """ "revoked" or "rejected" when the slot holds the vendor's signed refusal, else None."""
    if slot is None:
        return None
    if slot.revoked_at is not None:
        return "revoked"
    if slot.rejected_at is not None:
        return "rejected"
    return None


_HELD = {
    "revoked": {"ja": "失効処理されている", "en": "revoked"},
    "rejected": {"ja": "無効と回答されている", "en": "refused"},
}


def confirmation_required(
    product: Product, held: str, cause: CssecError
) -> VendorConfirmationRequired:
    """The refusal of an unconfirmed code entered on a slot holding a signed refusal."""
    said = _CAUSES.get(cause.code, {"ja": cause.code, "en": cause.code})
    return VendorConfirmationRequired(
        product=product.value,
        product_ja=product.name_in("ja"),
        product_en=product.name_in("en"),
        held=held,
        held_ja=_HELD[held]["ja"],
        held_en=_HELD[held]["en"],
        cause=cause.code,
        cause_ja=said["ja"],
        cause_en=said["en"],
    )


_CAUSES = {
    "vendor_unreachable": {
        "ja": "ライセンスサーバに接続できません",
        "en": "the license server could not be reached",
    },
    "untrusted_statement": {
        "ja": "応答をライセンスサーバの鍵で検証できません",
        "en": "the answer could not be verified with the license server's key",
    },
}


def _stopped(product: Product, state: LicenseState) -> dict[str, str]:
    """「停止した機能: …。」 from the policy, for the event and the flash."""
    stopped = stopped_operations(product, state)
    return {
        "ja": "停止した機能: " + "、".join(op.label("ja") for op in stopped) + "。",
        "en": "Stopped: " + ", ".join(op.label("en") for op in stopped) + ".",
    }


_HOLDS: dict[LicenseState, tuple[Literal["revoked_at", "rejected_at"], str]] = {
    LicenseState.REVOKED: ("revoked_at", "license.revoked"),
    LicenseState.REJECTED: ("rejected_at", "license.rejected"),
}
"""The slot's field that holds each signed refusal, and the kind of its system event."""

_ASK_FOR_A_NEW_CODE = {
    "ja": "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる"
    "新しいアクティベーションコードを入力してください。",
    "en": "Contact corporate support, then enter a new activation code that the license "
    "server confirms.",
}


def _hold_refusal(
    make_session: sessionmaker[Session],
    product: Product,
    code: str,
    refusal: CssecError,
    *,
    state: LicenseState,
    since: datetime,
    envelope: dict[str, Any],
    now: datetime,
    what: dict[str, str],
    details: dict[str, str],
) -> None:
    """Put the vendor's signed refusal on the slot (its field for `state` set to `since`)
    and say so in the system event log the first time only: `what` happened, what the
    policy stopped, and what to do. A slot whose code changed while the vendor was being
    asked is left alone: that activation wins."""
    held, kind = _HOLDS[state]
    stopped = _stopped(product, state)
    message = {
        "ja": what["ja"] + stopped["ja"] + _ASK_FOR_A_NEW_CODE["ja"],
        "en": f"{what['en']} {stopped['en']} {_ASK_FOR_A_NEW_CODE['en']}",
    }
    with make_session() as session, session.begin():
        slot = find_slot(session, product)
        if slot is None or slot.activation_code != code:
            return
        first = getattr(slot, held) is None
        setattr(slot, held, since)
        slot.last_attempt = now
        slot.last_error = refusal.code
        slot.statement = envelope
        if first:
            add_event(
                session, at=now, level=Level.ERROR, kind=kind, message=message,
                details={"product": product.value, **details},
            )  # fmt: skip


def apply_revocation(
    make_session: sessionmaker[Session],
    product: Product,
    code: str,
    revoked: CodeRevoked,
    *,
    now: datetime,
    actor: str,
) -> None:
    """Mark the slot revoked (the policy then refuses what it governs, as after grace) and
    say so in the system event log, once per revocation."""
    at = revoked.revocation.revoked_at
    what = {
        "ja": f"{product.name_in('ja')}のアクティベーションコードはライセンスサーバで"
        f"失効処理されています (失効日時 {at:%Y-%m-%d %H:%M} UTC)。",
        "en": f"The {product.name_in('en')} activation code was revoked by the license "
        f"service (at {at:%Y-%m-%d %H:%M} UTC).",
    }
    _hold_refusal(
        make_session, product, code, revoked, state=LicenseState.REVOKED, since=at,
        envelope=revoked.revocation.envelope, now=now, what=what,
        details={"revoked_at": at.isoformat(), "actor": actor},
    )  # fmt: skip


def apply_rejection(
    make_session: sessionmaker[Session],
    product: Product,
    code: str,
    rejected: CodeRejected,
    *,
    now: datetime,
    actor: str,
) -> None:
    """Mark the slot rejected (the policy then refuses what it refuses after grace) and say
    so in the system event log, once per rejection."""
    proof = rejected.rejection
    what = {
        "ja": f"ライセンスサーバは{product.name_in('ja')}のアクティベーションコードを"
        "発行していないと署名付きで回答しました。"
        "スロットを「無効（ライセンスサーバの回答）」にしました。",
        "en": f"The license server signed that it never issued the {product.name_in('en')} "
        "activation code. The slot is now Refused by the license server.",
    }
    details = {"vendor_state": proof.vendor_state, "issued_at": proof.issued_at.isoformat()}
    _hold_refusal(
        make_session, product, code, rejected, state=LicenseState.REJECTED,
        since=proof.issued_at, envelope=proof.envelope, now=now, what=what,
        details={**details, "actor": actor},
    )  # fmt: skip


def applied_refusal_message(product: Product, applied: str) -> dict[str, str]:
    """What a check that applied the vendor's signed refusal did, for the flash and the CLI:
    never "could not check" (the check did reach the vendor, and the license changed). What
    stopped is the policy's list for that product and state (`stopped_operations`), the same
    list as the banner's."""
    ja, en = product.name_in("ja"), product.name_in("en")
    state = LicenseState.REVOKED if applied == "revoked" else LicenseState.REJECTED
    if applied == "revoked":
        what = {
            "ja": f"{ja}: ライセンスサーバは、このアクティベーションコードが失効処理されていると"
            "署名付きで回答しました。ライセンスの状態を「失効」にしました。",
            "en": f"{en}: the license server signed that this activation code is revoked. The "
            "license is now Revoked.",
        }
    else:
        what = {
            "ja": f"{ja}: ライセンスサーバは、このアクティベーションコードを発行していないと"
            "署名付きで回答しました。ライセンスの状態を「無効（ライセンスサーバの回答）」に"
            "しました。",
            "en": f"{en}: the license server signed that it never issued this activation code. "
            "The license is now Refused by the license server.",
        }
    halted = _stopped(product, state)
    way_out = {
        "ja": "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる新しい"
        "アクティベーションコードを[新規入力]から入力してください。",
        "en": "Contact corporate support, then enter a new activation code that the license "
        "server confirms with Enter new code.",
    }
    return {lang: f"{what[lang]} {halted[lang]} {way_out[lang]}" for lang in ("ja", "en")}
