"""Replacing a slot's code (新規入力): what changes, and when the administrator must confirm.

The FAQ's 新規入力 takes a new code at once. Entering another customer's code, or an old
one, would then quietly lower the license (an earlier expiry, fewer seats, another
contract). So before a live license (activated or in grace) is replaced, the new code's
terms are compared with the slot's: the vendor's signed statement when it answered, else
the code's own encoded facts (expiry, seats). The contract is known only from statements
(`contract_id`); offline it is shown as not known and does not count as another contract.
A worse change is refused with `ConfirmationRequired` unless confirmed, and a confirmed one
is written as a warning event. An expired or revoked license has nothing left to lose: its
replacement needs no confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cssec.core.codes import ActivationCode
from cssec.core.errors import CssecError
from cssec.core.license import LicenseState, Product
from cssec.server.licensing.statements import VerifiedStatement, contract_of
from cssec.server.models import LicenseSlot

__all__ = [
    "Change",
    "ConfirmationRequired",
    "Replacement",
    "Terms",
    "compare_terms",
    "terms_of_code",
    "terms_of_slot",
]

LIVE_STATES = (LicenseState.ACTIVATED, LicenseState.UNCONFIRMED, LicenseState.GRACE_PERIOD)

FIELD_LABELS = {
    "product": {"ja": "製品", "en": "Product"},
    "expires_on": {"ja": "有効期限", "en": "Expiry date"},
    "seats": {"ja": "ライセンス数", "en": "Seats"},
    "contract": {"ja": "契約", "en": "Contract"},
}
UNKNOWN = {"ja": "不明（オンラインで未確認）", "en": "unknown (not confirmed online)"}


@dataclass(frozen=True)
class Terms:
    """What a license grants, as far as the server can know it."""

    product: Product
    expires_on: date
    seats: int
    contract_id: int | None
    customer: str | None

    def contract_label(self, lang: str) -> str:
        if self.contract_id is None:
            return UNKNOWN["ja" if lang.startswith("ja") else "en"]
        who = f" {self.customer}" if self.customer else ""
        return f"#{self.contract_id}{who}"

    def value(self, field: str, lang: str) -> str:
        if field == "product":
            return self.product.name_in(lang)
        if field == "expires_on":
            return self.expires_on.isoformat()
        if field == "seats":
            return str(self.seats)
        return self.contract_label(lang)


@dataclass(frozen=True)
class Change:
    field: str
    """product, expires_on, seats or contract"""
    changed: bool
    worse: bool

    def label(self, lang: str) -> str:
        return FIELD_LABELS[self.field]["ja" if lang.startswith("ja") else "en"]


@dataclass(frozen=True)
class Replacement:
    """The slot's terms before (None: a new slot) and after, field by field."""

    before: Terms | None
    after: Terms
    changes: tuple[Change, ...]
    current_live: bool

    @property
    def worse(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.worse)

    @property
    def needs_confirmation(self) -> bool:
        """A live license would get worse (an expired or revoked one has nothing to lose)."""
        return self.current_live and bool(self.worse)

    def rows(self, lang: str) -> list[dict[str, Any]]:
        """For pages: label, before, after, changed, worse."""
        return [
            {
                "field": c.field,
                "label": c.label(lang),
                "before": self.before.value(c.field, lang) if self.before else "—",
                "after": self.after.value(c.field, lang),
                "changed": c.changed,
                "worse": c.worse,
            }
            for c in self.changes
        ]

    def summary(self, lang: str, *, only_worse: bool = True) -> str:
        """One line: "有効期限 2027-12-01 → 2026-11-19、ライセンス数 25 → 10"."""
        sep = "、" if lang.startswith("ja") else ", "
        picked = self.worse if only_worse else tuple(c for c in self.changes if c.changed)
        return sep.join(
            f"{c.label(lang)} {row['before']} → {row['after']}"
            for c, row in zip(self.changes, self.rows(lang), strict=True)
            if c in picked
        )

    def to_api(self) -> list[dict[str, Any]]:
        """Machine-readable changes for the JSON API (values in canonical form)."""

        def raw(terms: Terms | None, field: str) -> Any:
            if terms is None:
                return None
            if field == "product":
                return terms.product.value
            if field == "expires_on":
                return terms.expires_on.isoformat()
            if field == "seats":
                return terms.seats
            return terms.contract_id

        return [
            {
                "field": c.field,
                "before": raw(self.before, c.field),
                "after": raw(self.after, c.field),
                "worse": c.worse,
            }
            for c in self.changes
        ]


def terms_of_slot(slot: LicenseSlot) -> Terms:
    statement = slot.statement.get("statement") if isinstance(slot.statement, dict) else None
    facts = statement if isinstance(statement, dict) else {}
    customer = facts.get("customer")
    return Terms(
        product=Product(slot.product),
        expires_on=slot.expires_on,
        seats=slot.seats,
        contract_id=contract_of(facts),
        customer=customer if isinstance(customer, str) else None,
    )


def terms_of_code(code: ActivationCode, statement: VerifiedStatement | None) -> Terms:
    if statement is not None:
        return Terms(
            product=code.product,
            expires_on=statement.contract_end,
            seats=statement.seats,
            contract_id=statement.contract_id,
            customer=statement.customer,
        )
    return Terms(
        product=code.product,
        expires_on=code.expires_on,
        seats=code.seats,
        contract_id=None,
        customer=None,
    )


def compare_terms(
    before: Terms | None, after: Terms, *, current: LicenseState | None
) -> Replacement:
    """Field by field. Another contract counts only when both sides name one."""
    if before is None:
        changes = tuple(Change(f, changed=True, worse=False) for f in FIELD_LABELS)
        return Replacement(None, after, changes, current_live=False)
    other_contract = (
        before.contract_id is not None
        and after.contract_id is not None
        and before.contract_id != after.contract_id
    )
    changes = (
        Change("product", changed=before.product is not after.product, worse=False),
        Change(
            "expires_on",
            changed=before.expires_on != after.expires_on,
            worse=after.expires_on < before.expires_on,
        ),
        Change("seats", changed=before.seats != after.seats, worse=after.seats < before.seats),
        Change(
            "contract",
            changed=before.contract_id != after.contract_id,
            worse=other_contract,
        ),
    )
    return Replacement(before, after, changes, current_live=current in LIVE_STATES)


class ConfirmationRequired(CssecError):
    """The new code would lower a live license; nothing was changed. Send it again with
    confirmation (the Web manager's confirm page, `"confirm": true` in the JSON API,
    `--confirm` on the CLI)."""

    code = "confirmation_required"
    status = 409

    def __init__(self, replacement: Replacement) -> None:
        self.replacement = replacement
        super().__init__(changes=replacement.to_api())

    def message(self, lang: str = "ja") -> str:
        if self._override is not None:
            return self._override
        english = lang.lower().startswith("en")
        return self.text("en" if english else "ja", self.replacement.summary(lang))

    def text(self, lang: str, summary: str) -> str:
        """The message around `summary` (the worse changes); subclasses say another way on."""
        if lang == "en":
            return (
                f"The new activation code would lower the current license: {summary}. "
                "Nothing was changed. To replace it anyway, confirm and activate again "
                '(command line: --confirm; JSON API: "confirm": true).'
            )
        return (
            f"新しいアクティベーションコードでは、現在のライセンスより条件が下がります: {summary}。"
            "何も変更していません。それでも置き換える場合は、確認のうえもう一度"
            "アクティベートしてください。コマンドでは--confirmを、"
            'APIでは"confirm": trueを指定します。'
        )
