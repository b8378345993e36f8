"""Notices to customers: the contract's end coming (90, 60, 30 and 0 days ahead), the
grace period over, and seats used beyond the contract.

`plan_notices` decides what is due today (the vendor's UTC date) and, in one transaction
per run, records each notice (`ContractNotice`, unique per contract, kind and contract
end), queues its mail to the contract's contact in the customer's language (Japanese
unless set to English) and emits its webhook (license.expiring, license.expired). The
outbox delivers both after the commit. The unique key makes each notice happen once
however many vendor processes plan at the same time; on PostgreSQL they also take turns
through a transaction-level advisory lock (the one holding it plans, the others skip),
on SQLite the transaction's write lock does the same.

Only the latest milestone reached is sent, and only when it was reached after the
contract was issued and at most `MAX_LATE` ago: a contract issued 45 days before its end
gets the 30-day notice, not a late 60-day one; a vendor down for a week catches up.
A renewal moves the end, and the notices start over for the new end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cssec.core.license import grace_end
from cssec.core.plural import count_en
from cssec.vendor_service.models import (
    Contract,
    ContractNotice,
    Customer,
    ProductRow,
    Registration,
)
from cssec.vendor_service.services._context import now_utc, today_utc, transaction
from cssec.vendor_service.services.outbox import MAIL, enqueue
from cssec.vendor_service.services.webhooks import emit_event

EXPIRY_DAYS = (90, 60, 30, 0)
GRACE_ENDED = "grace_ended"
SEATS_EXCEEDED = "seats_exceeded"
MAX_LATE = timedelta(days=30)
ADVISORY_LOCK = 0x63737365_6E6F7469  # "cssenoti": the notice planner's PostgreSQL lock
PRODUCT_NAMES = {
    "CS": {"ja": "C/S Sec.", "en": "C/S Sec."},
    "DCS": {"ja": "ウイルス感染復旧サービス", "en": "Damage Cleanup Services"},
}


@dataclass(frozen=True)
class Milestone:
    kind: str
    """expiring_90, expiring_60, expiring_30, expiring_0 or grace_ended."""
    on: date
    days_left: int | None


def milestones(ends_on: date, grace_days: int) -> list[Milestone]:
    """The contract's notice days, in order; grace_ended is the first day after the grace."""
    found = [Milestone(f"expiring_{d}", ends_on - timedelta(days=d), d) for d in EXPIRY_DAYS]
    after_grace = grace_end(ends_on, grace_days) + timedelta(days=1)
    return [*found, Milestone(GRACE_ENDED, after_grace, None)]


def due_milestone(
    ends_on: date, grace_days: int, *, issued_on: date, today: date
) -> Milestone | None:
    """The notice due `today`: the latest milestone reached, if reached after the contract
    was issued and no more than `MAX_LATE` ago."""
    reached = [m for m in milestones(ends_on, grace_days) if m.on <= today]
    if not reached:
        return None
    latest = reached[-1]
    if latest.on < issued_on or today - latest.on > MAX_LATE:
        return None
    return latest


@dataclass(frozen=True)
class PlannedNotice:
    contract_id: int
    kind: str
    contract_end: date
    recipient: str | None


def plan_notices(session: Session, *, mail: bool) -> list[PlannedNotice]:
    """Record today's due notices, queue their mails (when `mail`, i.e. an SMTP server
    is configured, and the contract has a contact) and their webhooks. Own transaction."""
    planned: list[PlannedNotice] = []
    with transaction(session):
        if session.get_bind().dialect.name == "postgresql":
            got = session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
            )
            if not got:
                return []  # another vendor process is planning right now
        today = today_utc(session)
        longest = session.scalar(select(func.max(ProductRow.default_grace_days))) or 0
        earliest = today - MAX_LATE - timedelta(days=longest + 1)
        contracts = session.scalars(
            select(Contract)
            .where(Contract.ends_on >= earliest, Contract.ends_on <= today + timedelta(days=90))
            .order_by(Contract.id)
        ).all()
        graces: dict[str, int] = {}
        for code, days in session.execute(select(ProductRow.code, ProductRow.default_grace_days)):
            graces[code] = days
        for contract in contracts:
            grace = max((graces.get(p, 0) for p in contract.product_codes), default=0)
            due = due_milestone(
                contract.ends_on, grace, issued_on=contract.created_at.date(), today=today
            )
            if due is None or _recorded(
                session, contract.id, due.kind, contract.ends_on.isoformat()
            ):
                continue
            planned.append(_notify(session, contract, due, grace, mail=mail))
    return planned


def _recorded(session: Session, contract_id: int, kind: str, occasion: str) -> bool:
    found = session.scalar(
        select(ContractNotice.id).where(
            ContractNotice.contract_id == contract_id,
            ContractNotice.kind == kind,
            ContractNotice.occasion == occasion,
        )
    )
    return found is not None


def contact_of(session: Session, contract: Contract) -> str | None:
    """The contract's own contact address, else the one given at its latest registration
    (by the holder of its registration key). Never another contract's, nor the customer's:
    a customer name groups contracts for search and grants nothing."""
    if contract.contact_email:
        return contract.contact_email
    return session.scalar(
        select(Registration.contact_email)
        .where(Registration.contract_id == contract.id)
        .order_by(Registration.last_at.desc(), Registration.id.desc())
        .limit(1)
    )


def _notify(
    session: Session, contract: Contract, due: Milestone, grace: int, *, mail: bool
) -> PlannedNotice:
    customer: Customer = contract.customer
    to = contact_of(session, contract) if mail else None
    session.add(
        ContractNotice(
            contract_id=contract.id,
            kind=due.kind,
            occasion=contract.ends_on.isoformat(),
            created_at=now_utc(session),
            recipient=to,
        )
    )
    facts = {
        "contract_id": contract.id,
        "customer": customer.name,
        "ends_on": contract.ends_on.isoformat(),
        "grace_end": grace_end(contract.ends_on, grace).isoformat(),
        "products": contract.product_codes,
    }
    if due.days_left is not None:
        emit_event(
            session,
            "license.expiring",
            {**facts, "days_left": due.days_left},
            contract_id=contract.id,
        )
    else:
        emit_event(session, "license.expired", facts, contract_id=contract.id)
    if to is not None:
        lang = "en" if contract.contact_language == "en" else "ja"
        subject, body = notice_text(due, facts, grace, lang)
        enqueue(
            session,
            channel=MAIL,
            event_type=f"notice.{due.kind}",
            payload={
                "subject": subject,
                "body": body,
                "language": lang,
                "notice": f"contract:{contract.id}/{due.kind}/{contract.ends_on.isoformat()}",
            },
            recipient=to,
            contract_id=contract.id,
        )
    return PlannedNotice(contract.id, due.kind, contract.ends_on, to)


def notice_text(due: Milestone, facts: dict[str, Any], grace: int, lang: str) -> tuple[str, str]:
    """Subject and body of a notice mail in `lang` (ja or en)."""
    names = "、".join(PRODUCT_NAMES.get(p, {}).get("ja", p) for p in facts["products"])
    names_en = ", ".join(PRODUCT_NAMES.get(p, {}).get("en", p) for p in facts["products"])
    end, after, cid, who = (
        facts["ends_on"],
        facts["grace_end"],
        facts["contract_id"],
        facts["customer"],
    )
    if lang == "en":
        if due.days_left is None:
            subject = f"[C/S Sec.] The renewal grace period has ended (contract #{cid})"
            lead = (
                f"The grace period of your C/S Sec. license contract #{cid} ended on {after} "
                f"(the contract ended on {end}). Pattern files and the other components are no "
                "longer delivered or updated. Virus scans, client installs and the logs keep "
                "working."
            )
        else:
            when = "today" if due.days_left == 0 else f"in {count_en(due.days_left, 'day')}"
            subject = f"[C/S Sec.] Your license contract ends {when} ({end})"
            lead = (
                f"Your C/S Sec. license contract #{cid} ends on {end} ({when}). After that, a "
                f"grace period of {grace} days runs until {after}; then pattern files and the "
                "other components are no longer delivered or updated."
            )
        body = (
            f"Dear {who},\n\n{lead}\n\nProducts: {names_en}\n\n"
            "To keep your protection current, apply for a renewal. After the renewal, online "
            "C/S Sec. servers receive the new end date at their next status check; enter a new "
            "activation code on an offline server.\n\n"
            "Questions: contact corporate support.\nThis message was sent automatically.\n"
        )
        return subject, body
    if due.days_left is None:
        subject = f"【C/S Sec.】更新猶予期間が終了しました (契約番号 {cid})"
        lead = (
            f"C/S Sec.のライセンス契約 (契約番号 {cid})は {end}に終了し、"
            f"{after}で更新猶予期間も終了しました。"
            "パターンファイルなどのコンポーネントの配信とアップデートは停止しています。"
            "ウイルス検索、クライアントのインストール、ログは引き続きご利用いただけます。"
        )
    else:
        when = "本日" if due.days_left == 0 else f"あと {due.days_left} 日"
        subject = f"【C/S Sec.】ライセンス契約の終了日が近づいています ({when}、{end})"
        lead = (
            f"C/S Sec.のライセンス契約 (契約番号 {cid})は {end}に終了します ({when})。"
            f"終了日の後 {grace} 日間 ({after}まで)は更新猶予期間で、"
            "その後はパターンファイルなどのコンポーネントの配信とアップデートが停止します。"
        )
    body = (
        f"{who} ご担当者様\n\n{lead}\n\n製品: {names}\n\n"
        "継続してご利用いただくには、契約の更新をお申し込みください。更新後、オンラインの "
        "C/S Sec. サーバは次回のステータス確認で新しい終了日を受け取ります。オフラインのサーバには"
        "新しいアクティベーションコードを入力してください。\n\n"
        "ご不明な点は法人お問合せ窓口までお問い合わせください。\nこのメールは送信専用です。\n"
    )
    return subject, body


def note_seat_usage(
    session: Session,
    *,
    contract_id: int,
    server_id: str,
    seats_used: int,
    previous: int | None = None,
    at: datetime | None = None,
) -> bool:
    """In the caller's transaction: when a server's report (made `at`, default now)
    crosses the contract's seats
    (`seats_used` over them, and the same server's `previous` report within them or
    absent), emit seats.exceeded, at most once per contract and UTC day (a count
    flapping around the seats does not flood the receivers). Reports that stay over emit
    nothing more; one back within the seats re-arms the next crossing. True when emitted.

    Called for each status check that carries `seats_used` (`seat_watch`); a savepoint
    keeps a concurrent duplicate from failing the caller's transaction."""
    contract = session.get(Contract, contract_id)
    if contract is None or seats_used <= contract.seats:
        return False
    if previous is not None and previous > contract.seats:
        return False  # still over: the crossing was reported
    at = at or now_utc(session)
    day = at.date().isoformat()
    if _recorded(session, contract_id, SEATS_EXCEEDED, day):
        return False
    try:
        with session.begin_nested():
            session.add(
                ContractNotice(
                    contract_id=contract_id,
                    kind=SEATS_EXCEEDED,
                    occasion=day,
                    created_at=at,
                    recipient=None,
                )
            )
            session.flush()
    except IntegrityError:
        return False  # another process noted it first
    emit_event(
        session,
        "seats.exceeded",
        {
            "contract_id": contract.id,
            "customer": contract.customer.name,
            "seats": contract.seats,
            "seats_used": seats_used,
            "server_id": server_id,
        },
        contract_id=contract.id,
    )
    return True


def record_seat_usage(
    session: Session,
    *,
    contract_id: int,
    server_id: str,
    seats_used: int,
    previous: int | None = None,
) -> bool:
    """`note_seat_usage` in a transaction of its own (committed)."""
    with transaction(session):
        emitted = note_seat_usage(
            session,
            contract_id=contract_id,
            server_id=server_id,
            seats_used=seats_used,
            previous=previous,
        )
    return emitted
