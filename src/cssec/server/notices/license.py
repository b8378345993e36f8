"""Which license notices are due: the expiry 90, 60 and 30 days ahead, the grace period
entered, the license expired, the code revoked (or signed as never issued) by the vendor,
and the online check failing N times in a row.

Asked by the license scheduler on every tick (at least once a minute) and after every
check, in one transaction; `service.record_notice` makes each occasion a single mail. An
expiry stage is keyed by the expiry date, so a renewal (a new expiry) starts the stages
over. Only the latest stage reached is sent: a server installed 25 days before its expiry
gets the 30-day notice, not the 90- and 60-day ones as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product
from cssec.core.policy import governed_operations
from cssec.server.licensing.clockguard import observe_time
from cssec.server.licensing.view import SlotView, effective_today, slot_view
from cssec.server.models import LicenseSlot
from cssec.server.notices.service import record_notice

EXPIRY_STAGES = (90, 60, 30)

_RENEW = {
    "ja": (
        "ご契約を更新してください。インターネットに接続できる環境では、更新後に Webマネージャの "
        "[運用管理] → [製品ライセンス]で [ステータスをオンラインで確認]を押すと有効期限が"
        "延長されます (自動の確認も行われます)。接続できない環境では、法人お問合せ窓口から"
        "新しいアクティベーションコードを入手し、[新規入力]から入力してください。"
    ),
    "en": (
        "Renew the contract. With Internet access, press Check status online under "
        "Administration → Product License in the Web manager after renewing (the server also "
        "checks on its own). Without Internet access, obtain a new activation code from "
        "corporate support and enter it with Enter new code."
    ),
}


AFTER_LAPSE = {
    Product.CS: {
        "ja": (
            "ウイルス検索やクライアントのインストール、ログの記録などは引き続き利用できますが、"
            "パターンファイルが更新されないため感染の危険性が高まります。"
        ),
        "en": (
            "Scanning, client installs, logging and the rest keep working, but without new "
            "pattern files you are increasingly exposed."
        ),
    },
    Product.DCS: {
        "ja": (
            "ウイルス感染復旧サービスの実行やウイルス検索、パターンファイルのアップデートなどは"
            "引き続き利用できます。"
        ),
        "en": (
            "Damage Cleanup Services still runs, and scanning, pattern file updates and the "
            "rest keep working."
        ),
    },
}
"""What still works once a product's license has lapsed (said after what stopped, in the
expired mail and banner): a Damage Cleanup Services lapse stops no C/S Sec. update."""


def _stopped(product: Product, lang: str) -> str:
    """What `product`'s lapse stops (`core.policy.governed_operations`), never another's."""
    sep = "、" if lang == "ja" else ", "
    return sep.join(op.label(lang) for op in governed_operations(product))


def expiry_stage(days_left: int) -> int | None:
    """The latest stage reached with `days_left` to the expiry (90, 60, 30), or None."""
    reached = [stage for stage in EXPIRY_STAGES if days_left <= stage]
    return min(reached) if reached else None


def _expiring(view: SlotView, stage: int) -> tuple[dict[str, str], dict[str, str]]:
    name = {lang: view.product.name_in(lang) for lang in ("ja", "en")}
    expiry, days = view.expires_on.isoformat(), view.days_to_expiry
    subject = {
        "ja": f"{name['ja']}の有効期限まであと {days} 日です ({expiry})",
        "en": f"{name['en']} expires in {days} day(s) ({expiry})",
    }
    body = {
        "ja": (
            f"{name['ja']}の有効期限は {expiry}です (あと {days} 日、{stage} 日前のお知らせ)。\n"
            f"有効期限を過ぎると {view.grace_days} 日間の更新猶予期間に入り、"
            f"猶予期間が終わる {view.grace_end.isoformat()}の翌日から次の機能が停止します: "
            f"{_stopped(view.product, 'ja')}。\n\n{_RENEW['ja']}\n"
        ),
        "en": (
            f"{name['en']} expires on {expiry} (in {days} day(s); the {stage}-day notice).\n"
            f"After the expiry a {view.grace_days}-day grace period begins; the day after it "
            f"ends ({view.grace_end.isoformat()}) the following stop: "
            f"{_stopped(view.product, 'en')}.\n\n{_RENEW['en']}\n"
        ),
    }
    return subject, body


def _grace(view: SlotView) -> tuple[dict[str, str], dict[str, str]]:
    name = {lang: view.product.name_in(lang) for lang in ("ja", "en")}
    expiry, end, days = (
        view.expires_on.isoformat(),
        view.grace_end.isoformat(),
        view.days_to_grace_end,
    )
    subject = {
        "ja": f"{name['ja']}が更新猶予期間に入りました (あと {days} 日)",
        "en": f"{name['en']} is in its grace period ({days} day(s) left)",
    }
    body = {
        "ja": (
            f"{name['ja']}の有効期限 ({expiry})が過ぎ、更新猶予期間に入りました。"
            f"猶予期間は {end}に終わります (あと {days} 日)。その翌日から次の機能が停止します: "
            f"{_stopped(view.product, 'ja')}。\n\n{_RENEW['ja']}\n"
        ),
        "en": (
            f"{name['en']} passed its expiry ({expiry}) and is in its grace period, which "
            f"ends on {end} ({days} day(s) left). The day after, the following stop: "
            f"{_stopped(view.product, 'en')}.\n\n{_RENEW['en']}\n"
        ),
    }
    return subject, body


def _expired(view: SlotView) -> tuple[dict[str, str], dict[str, str]]:
    name = {lang: view.product.name_in(lang) for lang in ("ja", "en")}
    expiry, end = view.expires_on.isoformat(), view.grace_end.isoformat()
    subject = {
        "ja": f"{name['ja']}の契約期間が終了しました",
        "en": f"{name['en']} has expired",
    }
    body = {
        "ja": (
            f"{name['ja']}の契約期間が終了しました (有効期限 {expiry}、猶予期間は {end}に終了)。"
            f"次の機能は停止しています: {_stopped(view.product, 'ja')}。\n"
            f"{AFTER_LAPSE[view.product]['ja']}\n\n{_RENEW['ja']}\n"
        ),
        "en": (
            f"{name['en']} has expired (expiry {expiry}; grace period ended {end}). These have "
            f"stopped: {_stopped(view.product, 'en')}.\n{AFTER_LAPSE[view.product]['en']}\n\n"
            f"{_RENEW['en']}\n"
        ),
    }
    return subject, body


def _failing(row: LicenseSlot, product: Product) -> tuple[dict[str, str], dict[str, str]]:
    name = {lang: product.name_in(lang) for lang in ("ja", "en")}
    n, cause = row.consecutive_failures, row.last_error or "-"
    last = row.last_success.strftime("%Y-%m-%d %H:%M UTC") if row.last_success else "-"
    subject = {
        "ja": f"{name['ja']}のオンライン確認が {n} 回続けて失敗しています",
        "en": f"The online check of {name['en']} failed {n} times in a row",
    }
    body = {
        "ja": (
            f"{name['ja']}のステータスをライセンスサーバに {n} 回続けて確認できませんでした "
            f"(最後の原因: {cause}、最後に成功した確認: {last})。"
            "現在のライセンスは変更されていません。\n"
            "サーバのインターネット接続、プロキシの設定、ライセンスサーバへの到達性を確認してください。"
            "詳しくはシステムイベントログの license.check_failedを参照してください。\n"
        ),
        "en": (
            f"The status of {name['en']} could not be checked with the license service {n} "
            f"times in a row (last cause: {cause}; last success: {last}). The current license "
            "is unchanged.\nCheck the server's Internet connection, the proxy setting and that "
            "the license service is reachable; the system event log (license.check_failed) "
            "has the details.\n"
        ),
    }
    return subject, body


_AFTER_EXPIRY: dict[
    LicenseState, tuple[str, Callable[[SlotView], tuple[dict[str, str], dict[str, str]]]]
] = {
    LicenseState.GRACE_PERIOD: ("license.grace", _grace),
    LicenseState.EXPIRED: ("license.expired", _expired),
}
"""The notice of each state past the expiry (what it says; what is allowed stays with
core.policy)."""


def _refused(view: SlotView) -> tuple[dict[str, str], dict[str, str]]:
    """The vendor revoked the code, or signed that it never issued it: the Web manager's
    banner as a mail, word for word (what stopped, what keeps working, the way out), so the
    administrator learns of it without opening the Web manager."""
    from cssec.server.webmanager.banners import (  # noqa: PLC0415  (banners import this module)
        rejected_banner,
        revoked_banner,
    )

    banner = (revoked_banner if view.state is LicenseState.REVOKED else rejected_banner)(view)
    sep = {"ja": "、", "en": ", "}
    subject = dict(banner.title)
    body = {
        lang: "\n".join(
            [
                banner.title[lang],
                *(part[lang] for part in banner.body),
                f"{banner.items_title[lang]}: {sep[lang].join(i[lang] for i in banner.items)}",
            ]
        )
        + "\n"
        for lang in ("ja", "en")
    }
    return subject, body


_REFUSED_KINDS = {
    LicenseState.REVOKED: "license.revoked",
    LicenseState.REJECTED: "license.rejected",
}


def record_license_notices(
    session: Session, *, now: datetime, tz: tzinfo, failure_threshold: int
) -> list[str]:
    """Record the notices due now for every slot (the caller commits); the keys recorded."""
    today: date = effective_today(observe_time(session, now), tz)
    recorded: list[str] = []

    def note(key: str, kind: str, texts: tuple[dict[str, str], dict[str, str]]) -> None:
        subject, body = texts
        if record_notice(session, key=key, kind=kind, at=now, subject=subject, body=body):
            recorded.append(key)

    for row in session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all():
        view = slot_view(row, today)
        product, expiry = view.product, view.expires_on.isoformat()
        if view.state in (LicenseState.ACTIVATED, LicenseState.UNCONFIRMED):
            stage = expiry_stage(view.days_to_expiry)
            if stage is not None:
                key = f"license.expiring:{product.value}:{expiry}:{stage}"
                note(key, "license.expiring", _expiring(view, stage))
        elif (after := _AFTER_EXPIRY.get(view.state)) is not None:
            kind, texts = after
            note(f"{kind}:{product.value}:{expiry}", kind, texts(view))
        elif (refused := _REFUSED_KINDS.get(view.state)) is not None:
            # One mail per signed refusal: a new code refused again is a new occasion.
            at = row.revoked_at or row.rejected_at
            stamp = at.isoformat() if at is not None else expiry
            note(f"{refused}:{product.value}:{stamp}", refused, _refused(view))
        if row.consecutive_failures >= failure_threshold:
            streak = (row.last_success or row.activated_at).isoformat()
            key = f"license.check_failing:{product.value}:{streak}"
            note(key, "license.check_failing", _failing(row, product))
    return recorded
