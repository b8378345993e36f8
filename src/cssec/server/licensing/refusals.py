"""The vendor's signed refusals acted on (a revocation; "not ours", state invalid / unknown),
and the rule that follows from either: a new code for that product must be confirmed.

A signed, nonce-bound rejection puts the slot in `rejected` (one system event), exactly as a
signed revocation puts it in `revoked` (`activation._apply_revocation`); a bare
`invalid_activation_code` (which anyone on the path could send) changes nothing. While a
slot holds either, a code entered for that product takes effect only on the vendor's
signed activated / grace answer for it: typed in while the vendor is unreachable or
impersonated, it is refused (`VendorConfirmationRequired`), so a self-made code cannot
undo the vendor's word.
"""

from __future__ import annotations

from datetime import datetime

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
    proof = revoked.revocation
    with make_session() as session, session.begin():
        slot = find_slot(session, product)
        if slot is None or slot.activation_code != code:
            return  # a new code was entered while we were asking: that activation wins
        first = slot.revoked_at is None
        slot.revoked_at = proof.revoked_at
        slot.last_attempt = now
        slot.last_error = revoked.code
        slot.statement = proof.envelope
        if not first:
            return
        ja, en = product.name_in("ja"), product.name_in("en")
        stopped = _stopped(product, LicenseState.REVOKED)
        add_event(
            session,
            at=now,
            level=Level.ERROR,
            kind="license.revoked",
            message={
                "ja": (
                    f"{ja}のアクティベーションコードはライセンスサーバで失効処理されています"
                    f" (失効日時 {proof.revoked_at:%Y-%m-%d %H:%M} UTC)。{stopped['ja']}"
                    "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる"
                    "新しいアクティベーションコードを入力してください。"
                ),
                "en": (
                    f"The {en} activation code was revoked by the license service "
                    f"(at {proof.revoked_at:%Y-%m-%d %H:%M} UTC). {stopped['en']} Contact "
                    "corporate support, then enter a new activation code that the license "
                    "server confirms."
                ),
            },
            details={
                "product": product.value,
                "revoked_at": proof.revoked_at.isoformat(),
                "actor": actor,
            },
        )


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
    with make_session() as session, session.begin():
        slot = find_slot(session, product)
        if slot is None or slot.activation_code != code:
            return  # a new code was entered while we were asking: that activation wins
        first = slot.rejected_at is None
        slot.rejected_at = proof.issued_at
        slot.last_attempt = now
        slot.last_error = rejected.code
        slot.statement = proof.envelope
        if not first:
            return
        ja, en = product.name_in("ja"), product.name_in("en")
        stopped = _stopped(product, LicenseState.REJECTED)
        add_event(
            session,
            at=now,
            level=Level.ERROR,
            kind="license.rejected",
            message={
                "ja": (
                    f"ライセンスサーバは{ja}のアクティベーションコードを発行していないと"
                    "署名付きで回答しました。スロットを「無効（ライセンスサーバの回答）」に"
                    f"しました。{stopped['ja']}法人お問合せ窓口にお問い合わせのうえ、"
                    "ライセンスサーバで確認できる新しいアクティベーションコードを入力してください。"
                ),
                "en": (
                    f"The license server signed that it never issued the {en} activation code. "
                    f"The slot is now Refused by the license server. {stopped['en']} Contact "
                    "corporate support, then enter a new activation code that the license "
                    "server confirms."
                ),
            },
            details={
                "product": product.value,
                "vendor_state": proof.vendor_state,
                "issued_at": proof.issued_at.isoformat(),
                "actor": actor,
            },
        )


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
