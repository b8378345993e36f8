"""License state of one product slot, computed from the expiry, the grace length and today,
and from what the vendor has signed about the slot's code.

Days are inclusive calendar days in the server's time zone:
activated while today <= expiry, grace_period while expiry < today <= expiry + grace,
expired afterwards. Precedence when several facts hold (`slot_license_state`):
revoked > rejected > expired > grace_period > unconfirmed > activated.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

DEFAULT_GRACE_DAYS = 30


class Product(StrEnum):
    CS = "CS"
    DCS = "DCS"

    def name_in(self, lang: str) -> str:
        return PRODUCT_NAMES[self][_lang(lang)]


class VersionType(StrEnum):
    FULL = "full"

    def label(self, lang: str) -> str:
        return VERSION_TYPE_LABELS[self][_lang(lang)]


class LicenseState(StrEnum):
    ACTIVATED = "activated"
    GRACE_PERIOD = "grace_period"
    EXPIRED = "expired"
    REVOKED = "revoked"
    """Never computed from dates: a server sets it only on the vendor's signed statement that
    the code was revoked (*beyond* the FAQ). The policy refuses what it refuses after grace."""
    REJECTED = "rejected"
    """The vendor signed, for this server, this code and this request, that the code is not
    one it issued (unknown, or its MAC fails): a forged or mistyped-yet-well-formed code. The
    policy refuses what it refuses after grace (*beyond* the FAQ)."""
    UNCONFIRMED = "unconfirmed"
    """Accepted offline on its structure and check character, never confirmed by a vendor
    statement for this very code. Refuses nothing (the FAQ's offline behaviour); it replaces
    only `activated`: past the expiry the date states win."""

    def label(self, lang: str) -> str:
        return STATE_LABELS[self][_lang(lang)]


PRODUCT_NAMES: dict[Product, dict[str, str]] = {
    Product.CS: {"ja": "C/S Sec.", "en": "C/S Sec."},
    Product.DCS: {"ja": "ウイルス感染復旧サービス", "en": "Damage Cleanup Services"},
}
VERSION_TYPE_LABELS: dict[VersionType, dict[str, str]] = {
    VersionType.FULL: {"ja": "製品版", "en": "Full version"},
}
STATE_LABELS: dict[LicenseState, dict[str, str]] = {
    LicenseState.ACTIVATED: {"ja": "アクティベート済み", "en": "Activated"},
    LicenseState.GRACE_PERIOD: {"ja": "更新猶予期間", "en": "Grace period"},
    LicenseState.EXPIRED: {"ja": "契約期間終了", "en": "Expired"},
    LicenseState.REVOKED: {"ja": "失効", "en": "Revoked"},
    LicenseState.REJECTED: {
        "ja": "無効（ライセンスサーバの回答）",
        "en": "Refused by the license server",
    },
    LicenseState.UNCONFIRMED: {
        "ja": "アクティベート済み（ライセンスサーバで未確認）",
        "en": "Activated (not yet confirmed by the license server)",
    },
}


def _lang(lang: str) -> str:
    return "en" if lang.lower().startswith("en") else "ja"


def grace_end(expires_on: date, grace_days: int) -> date:
    """The last day of the grace period (inclusive)."""
    if grace_days < 0:
        raise ValueError("grace_days must not be negative")
    return expires_on + timedelta(days=grace_days)


def license_state(expires_on: date, grace_days: int, today: date) -> LicenseState:
    if today <= expires_on:
        return LicenseState.ACTIVATED
    if today <= grace_end(expires_on, grace_days):
        return LicenseState.GRACE_PERIOD
    return LicenseState.EXPIRED


def slot_license_state(
    expires_on: date,
    grace_days: int,
    today: date,
    *,
    revoked: bool = False,
    rejected: bool = False,
    confirmed: bool = True,
) -> LicenseState:
    """A slot's one state: the vendor's signed word first (revoked, then rejected), then the
    dates; a code never confirmed by the vendor shows `unconfirmed` where the dates alone
    would say `activated`."""
    if revoked:
        return LicenseState.REVOKED
    if rejected:
        return LicenseState.REJECTED
    state = license_state(expires_on, grace_days, today)
    if state is LicenseState.ACTIVATED and not confirmed:
        return LicenseState.UNCONFIRMED
    return state
