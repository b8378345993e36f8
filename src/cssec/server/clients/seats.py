"""Seat accounting: which clients count against a license's seats, crossing the seat
count, and removing a client.

A client counts while it has been seen within the last N days (`ServerSettings.
seat_window_days`, default 30): any contact (enrollment, heartbeat, update, reports)
moves `Client.last_contact_at`. A PC that was retired stops counting by itself after N
days, or at once when the administrator removes it (its log rows stay, under its name).

Seats are a license fact, never a gate: the FAQ keeps client install working whatever
the license state, and cssec keeps it working whatever the count. Over the seats the Web
manager shows a banner, the system event log gets one `seats.exceeded` per crossing (and
`seats.within` when the count is back), the administrator gets one mail per crossing, and
the count goes to the vendor with the next status check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.license import Product
from cssec.core.plural import count_en
from cssec.server.logs.events import Level, add_event
from cssec.server.models import Client, LicenseSlot
from cssec.server.notices.service import record_notice

DEFAULT_SEAT_WINDOW_DAYS = 30


def seats_used(session: Session, *, now: datetime, window_days: int) -> int:
    """Clients seen within the last `window_days` days."""
    since = now - timedelta(days=window_days)
    count = session.scalar(select(func.count(Client.id)).where(Client.last_contact_at >= since))
    return int(count or 0)


@dataclass(frozen=True)
class SeatChange:
    product: Product
    seats: int
    used: int
    over: bool


def _names(product: Product) -> dict[str, str]:
    return {"ja": product.name_in("ja"), "en": product.name_in("en")}


def _exceeded(
    session: Session, slot: LicenseSlot, used: int, now: datetime, window_days: int
) -> None:
    product = Product(slot.product)
    name = _names(product)
    add_event(
        session,
        at=now,
        level=Level.WARNING,
        kind="seats.exceeded",
        message={
            "ja": (
                f"{name['ja']}の使用数 ({used})がライセンス数 ({slot.seats})を超えました"
                f" (過去 {window_days} 日以内に接続したクライアント)。クライアントのインストールは"
                "引き続き可能です。使用していないクライアントを削除するか、ライセンス数を追加してください。"
            ),
            "en": (
                f"{name['en']}: {used} clients in use (seen within {window_days} days) exceed the "
                f"{slot.seats} licensed seats. Client installs keep working. Remove clients no "
                "longer in use, or add seats to the contract."
            ),
        },
        details={"product": product.value, "seats": slot.seats, "used": used},
    )
    record_notice(
        session,
        key=f"seats.exceeded:{product.value}:{now.isoformat()}",
        kind="seats.exceeded",
        at=now,
        subject={
            "ja": f"{name['ja']}の使用数がライセンス数を超えています ({used} / {slot.seats})",
            "en": f"{name['en']}: clients in use exceed the seats ({used} / {slot.seats})",
        },
        body={
            "ja": (
                f"{name['ja']}の使用数 (過去 {window_days} 日以内に接続したクライアント)が "
                f"{used} 台になり、ライセンス数 {slot.seats}を超えました。\n"
                "クライアントのインストールや保護は引き続き動作します。"
                "使用していないクライアントを "
                "Webマネージャの [クライアント] → [クライアント一覧]から削除するか、"
                "販売代理店または"
                "法人お問合せ窓口にライセンス数の追加をご相談ください。\n"
            ),
            "en": (
                f"{name['en']}: {used} clients were seen within {window_days} days, more than "
                f"the {slot.seats} licensed seats.\nClient installs and protection keep working. "
                "Remove clients no longer in use under Clients → Client list in the Web manager, "
                "or ask your reseller or corporate support about adding seats.\n"
            ),
        },
    )


def _within(session: Session, slot: LicenseSlot, used: int, now: datetime) -> None:
    product = Product(slot.product)
    name = _names(product)
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="seats.within",
        message={
            "ja": (
                f"{name['ja']}の使用数 ({used})がライセンス数 ({slot.seats}) 以内に戻りました。"
            ),
            "en": f"{name['en']}: {count_en(used, 'client')} in use, within the "
            f"{count_en(slot.seats, 'seat')} again.",
        },
        details={"product": product.value, "seats": slot.seats, "used": used},
    )


def refresh_seat_state(session: Session, *, now: datetime, window_days: int) -> list[SeatChange]:
    """Compare the clients in use with each slot's seats; on a crossing, flip the slot's
    `seats_over_since` and write its event (and, going over, its mail notice). The
    caller commits. Returns the crossings, none when nothing changed."""
    used = seats_used(session, now=now, window_days=window_days)
    changes: list[SeatChange] = []
    for slot in session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all():
        over = used > slot.seats
        if over and slot.seats_over_since is None:
            slot.seats_over_since = now
            _exceeded(session, slot, used, now, window_days)
        elif not over and slot.seats_over_since is not None:
            slot.seats_over_since = None
            _within(session, slot, used, now)
        else:
            continue
        changes.append(SeatChange(Product(slot.product), slot.seats, used, over))
    return changes


class ClientNotFound(Exception):
    """No such client (already removed); the page says so."""


def remove_client(session: Session, client_id: int, *, actor: str, now: datetime) -> Client:
    """Remove a client from the server (it no longer counts against the seats). Its rows
    in the virus and connection status logs stay, under its host name (their link is set
    to NULL); its real-time setting, cleanup requests and outbreak assignment go with it.
    The caller commits. The PC, if it still runs, must be installed again."""
    client = session.get(Client, client_id)
    if client is None:
        raise ClientNotFound(client_id)
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="client.removed",
        message={
            "ja": (
                f"クライアント {client.hostname}を削除しました (実行者: {actor})。ログは残ります。"
            ),
            "en": f"Client {client.hostname} removed by {actor}; its log entries are kept.",
        },
        details={"client": client.uid, "hostname": client.hostname, "actor": actor},
    )
    session.delete(client)
    session.flush()
    return client
