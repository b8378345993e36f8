"""What the server shows about its licenses, computed on every read from the stored expiry
and the clock (never stored, so it can never go stale)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.codes import ACTIVATION_CODE_GROUPS, format_symbols
from cssec.core.license import (
    LicenseState,
    Product,
    VersionType,
    grace_end,
)
from cssec.core.policy import stopped_operations
from cssec.server.clients.seats import DEFAULT_SEAT_WINDOW_DAYS, seats_used
from cssec.server.licensing.clockguard import TimeView, observe_time
from cssec.server.licensing.state import slot_state
from cssec.server.models import LicenseSlot

PRODUCT_ORDER = (Product.CS, Product.DCS)
WARN_DAYS_BEFORE = 90


STATE_NOTES: dict[LicenseState, dict[str, str]] = {
    LicenseState.UNCONFIRMED: {
        "ja": (
            "このアクティベーションコードはライセンスサーバでまだ確認されていません"
            "（コードの形式とチェック文字で受け付けました）。接続できるようになったら"
            "[ステータスをオンラインで確認]を押してください。接続しないサーバでは、"
            "[更新要求ファイルをダウンロード]で作ったファイルにライセンスサーバで応答してもらい、"
            "[応答ファイルを取り込む]で取り込むと確認されます。"
        ),
        "en": (
            "This activation code has not yet been confirmed by the license server (it was "
            "accepted on its format and check character). Press Check status online once the "
            "server can reach it. A server that never connects confirms it by file: have the "
            "license service answer a file from Download request file, then use Import "
            "response file."
        ),
    },
    LicenseState.REVOKED: {
        "ja": (
            "ライセンスサーバが署名付きで失効を回答しました。新しいコードはライセンスサーバで"
            "確認されてから有効になります。"
        ),
        "en": (
            "The license server signed that this code is revoked. A new code takes effect "
            "once the license server confirms it."
        ),
    },
    LicenseState.REJECTED: {
        "ja": (
            "ライセンスサーバが署名付きで、このコードを発行していないと回答しました。"
            "新しいコードはライセンスサーバで確認されてから有効になります。"
        ),
        "en": (
            "The license server signed that it never issued this code. A new code takes "
            "effect once the license server confirms it."
        ),
    },
}


@dataclass(frozen=True)
class SlotView:
    product: Product
    activation_code: str
    version_type: VersionType
    seats: int
    expires_on: date
    grace_days: int
    state: LicenseState
    today: date
    confirmed_online: bool
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    seats_used: int = 0
    """Clients seen within the seat window (clients.seats); never a gate."""

    @property
    def seats_over(self) -> bool:
        return self.seats_used > self.seats

    @property
    def formatted_code(self) -> str:
        return format_symbols(self.activation_code, ACTIVATION_CODE_GROUPS)

    @property
    def grace_end(self) -> date:
        return grace_end(self.expires_on, self.grace_days)

    @property
    def days_to_expiry(self) -> int:
        return (self.expires_on - self.today).days

    @property
    def days_to_grace_end(self) -> int:
        return (self.grace_end - self.today).days

    @property
    def expiry_near(self) -> bool:
        live = self.state in (LicenseState.ACTIVATED, LicenseState.UNCONFIRMED)
        return live and self.days_to_expiry <= WARN_DAYS_BEFORE

    @property
    def state_note(self) -> dict[str, str] | None:
        """What the state means for the administrator, beside it on 製品ライセンス."""
        return STATE_NOTES.get(self.state)

    def to_api(self, lang: str) -> dict[str, Any]:
        """The DESIGN.md shape, labels in the request's language."""
        return {
            "product": self.product.value,
            "product_name": self.product.name_in(lang),
            "version_type": self.version_type.label(lang),
            "activation_code": self.formatted_code,
            "status": self.state.value,
            "stopped": [op.value for op in stopped_operations(self.product, self.state)],
            "expires_on": self.expires_on.isoformat(),
            "seats": self.seats,
            "seats_used": self.seats_used,
        }


@dataclass(frozen=True)
class Licenses:
    slots: list[SlotView]
    time: TimeView
    today: date

    def slot(self, product: Product) -> SlotView | None:
        return next((s for s in self.slots if s.product is product), None)


def slot_view(slot: LicenseSlot, today: date, *, used: int = 0) -> SlotView:
    return SlotView(
        product=Product(slot.product),
        activation_code=slot.activation_code,
        version_type=VersionType(slot.version_type),
        seats=slot.seats,
        expires_on=slot.expires_on,
        grace_days=slot.grace_days,
        state=slot_state(slot, today),
        today=today,
        confirmed_online=slot.confirmed_online,
        last_success=slot.last_success,
        last_attempt=slot.last_attempt,
        last_error=slot.last_error,
        seats_used=used,
    )


def effective_today(time: TimeView, tz: tzinfo) -> date:
    """Today in the server's zone, from max(now, latest seen): a clock set back changes nothing."""
    return time.effective.astimezone(tz).date()


def read_licenses(
    session: Session,
    *,
    now: datetime,
    tz: tzinfo,
    seat_window_days: int = DEFAULT_SEAT_WINDOW_DAYS,
) -> Licenses:
    """Every slot as it stands now, with the clients in use (seen within
    `seat_window_days`) beside its seats."""
    time = observe_time(session, now)
    today = effective_today(time, tz)
    rows = session.scalars(select(LicenseSlot)).all()
    used = seats_used(session, now=now, window_days=seat_window_days) if rows else 0
    order = {p.value: i for i, p in enumerate(PRODUCT_ORDER)}
    slots = [
        slot_view(row, today, used=used)
        for row in sorted(rows, key=lambda r: order.get(r.product, 99))
    ]
    return Licenses(slots=slots, time=time, today=today)
