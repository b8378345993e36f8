"""What the license banners say: the state, what stops after grace (from core.policy) and
what to do; and the seat count when it is over the seats. Bilingual dicts, picked by the
page's language.

The list of stopped functions is `core.policy.stopped_operations(product, state)`, the very
table the gates ask, so a banner can never claim a stop the gates do not make (a Damage
Cleanup Services revocation names only its template's distribution). The header badge
comes from the same banner and names the product whose license lapsed.

Before the expiry the banner follows the reminder stages of the mails (90, 60 and 30 days
ahead, `notices.license.expiry_stage`): a warning from 90 days, danger from 30. In grace it
counts the days left; expired, it lists what has stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from cssec.core.license import LicenseState, Product
from cssec.core.policy import (
    RESTRICTED_AFTER_GRACE,
    Operation,
    decide,
    governed_operations,
    stopped_operations,
)
from cssec.server.licensing.clockguard import TimeView
from cssec.server.licensing.view import SlotView
from cssec.server.notices.license import AFTER_LAPSE, expiry_stage

RESTRICTED = [op for op in Operation if op in RESTRICTED_AFTER_GRACE]
KEEPS_WORKING = [op for op in Operation if op not in RESTRICTED_AFTER_GRACE]
DANGER_FROM_DAYS = 30
"""From the 30-day stage on, the expiry banner is red."""

_RENEW_BEFORE = {
    "ja": (
        "ご契約を更新してください。インターネットに接続できる環境では、更新後に"
        "[ステータスをオンラインで確認]を押すと有効期限が延長されます"
        " (有効期限の 90・60・30・1 日前と当日の 0 時にも自動で確認します)。"
        "接続できない環境では、法人お問合せ窓口から新しいアクティベーションコードを入手し、"
        "[新規入力]から入力してください。"
    ),
    "en": (
        "Renew the contract. With Internet access, press Check status online after renewing "
        "and the expiry moves to the contract's (the server also checks at 00:00 on the days "
        "90, 60, 30, 1 and 0 before the expiry). Without Internet access, obtain a new activation "
        "code from corporate support and enter it with Enter new code."
    ),
}


@dataclass(frozen=True)
class Banner:
    level: str  # "warning" | "danger"
    title: dict[str, str]
    body: list[dict[str, str]]
    items: list[dict[str, str]]
    items_title: dict[str, str]
    kind: str = "license"
    """What it is about, for the page (data-banner): license, seats, clock."""
    badge: dict[str, str] | None = None
    """The header's short word for a lapsed license, naming the product (None: no badge)."""
    badge_id: str = ""
    """The badge's data-testid."""


def _ops(ops: list[Operation]) -> list[dict[str, str]]:
    return [{"ja": op.label("ja"), "en": op.label("en")} for op in ops]


def stopped_by(slot: SlotView) -> list[Operation]:
    """What this slot refuses now (`core.policy.stopped_operations`) or, while it still
    allows everything, what would stop when it lapses (`core.policy.governed_operations`):
    the C/S Sec. license gates every distribution and update; Damage Cleanup Services' own
    license, only its template's distribution."""
    stopped = stopped_operations(slot.product, slot.state)
    return stopped or governed_operations(slot.product)


_BADGES = {
    LicenseState.REVOKED: {"ja": "失効", "en": "revoked"},
    LicenseState.REJECTED: {"ja": "無効", "en": "refused"},
    LicenseState.EXPIRED: {"ja": "契約期間終了", "en": "expired"},
}


def badge_of(product: Product, state: LicenseState) -> tuple[dict[str, str] | None, str]:
    """The header badge for a lapsed slot: "ライセンス失効" / "License revoked" for C/S Sec.
    (as before), the product named for Damage Cleanup Services."""
    word = _BADGES.get(state)
    if word is None:
        return None, ""
    if product is Product.CS:
        if state is LicenseState.REVOKED:
            return {"ja": "ライセンス失効", "en": "License revoked"}, "revoked-badge"
        return (
            {"ja": f"ライセンス{word['ja']}", "en": f"License {word['en']}"},
            f"license-badge-{state.value}",
        )
    return (
        {
            "ja": f"{product.name_in('ja')}: {word['ja']}",
            "en": f"{product.name_in('en')} {word['en']}",
        },
        f"license-badge-{product.value}-{state.value}",
    )


def license_banner(slot: SlotView) -> Banner | None:
    name = {"ja": slot.product.name_in("ja"), "en": slot.product.name_in("en")}
    expiry, grace_end = slot.expires_on.isoformat(), slot.grace_end.isoformat()
    if slot.state in (LicenseState.ACTIVATED, LicenseState.UNCONFIRMED):
        stage = expiry_stage(slot.days_to_expiry)
        if stage is None:
            return None
        days = slot.days_to_expiry
        return Banner(
            level="danger" if stage <= DANGER_FROM_DAYS else "warning",
            kind=f"license-{stage}",
            title={
                "ja": f"{name['ja']}の有効期限（{expiry}）まであと{days}日です。",
                "en": f"{name['en']} expires on {expiry}, in {days} day(s).",
            },
            body=[
                {
                    "ja": (
                        f"有効期限を過ぎると {slot.grace_days} 日間の更新猶予期間に入ります。"
                        f"猶予期間が終わる {grace_end}の翌日から、次の機能が停止します。"
                    ),
                    "en": (
                        f"After the expiry a {slot.grace_days}-day grace period begins; the day "
                        f"after it ends ({grace_end}) the following stop working."
                    ),
                },
                _RENEW_BEFORE,
            ],
            items=_ops(stopped_by(slot)),
            items_title={
                "ja": "猶予期間の終了後に停止する機能",
                "en": "Stops after the grace period",
            },
        )
    if slot.state is LicenseState.REVOKED:
        return revoked_banner(slot)
    if slot.state is LicenseState.REJECTED:
        return rejected_banner(slot)
    remedy = decide(slot.product, slot.state, governed_operations(slot.product)[0]).remedy
    if slot.state is LicenseState.GRACE_PERIOD:
        days = slot.days_to_grace_end
        return Banner(
            level="warning",
            kind="license-grace",
            title={
                "ja": (
                    f"{name['ja']}は更新猶予期間中です（有効期限{expiry}、"
                    f"猶予期間の終了{grace_end}、あと{days}日）。"
                ),
                "en": (
                    f"{name['en']} is in its grace period (expired {expiry}; "
                    f"grace ends {grace_end}, in {days} day(s))."
                ),
            },
            body=_grace_body(slot),
            items=_ops(stopped_by(slot)),
            items_title={
                "ja": "猶予期間の終了後に停止する機能",
                "en": "Stops after the grace period",
            },
        )
    return Banner(
        level="danger",
        kind="license-expired",
        title={
            "ja": (
                f"{name['ja']}の契約期間が終了しています"
                f"（有効期限{expiry}、猶予期間は{grace_end}に終了）。"
            ),
            "en": f"{name['en']} has expired (expiry {expiry}; grace period ended {grace_end}).",
        },
        body=[
            {
                "ja": f"次の機能は停止しています。{AFTER_LAPSE[slot.product]['ja']}",
                "en": f"The following have stopped. {AFTER_LAPSE[slot.product]['en']}",
            },
            remedy,
        ],
        items=_ops(stopped_by(slot)),
        items_title={"ja": "停止している機能", "en": "Stopped"},
        badge=badge_of(slot.product, slot.state)[0],
        badge_id=badge_of(slot.product, slot.state)[1],
    )


def _grace_body(slot: SlotView) -> list[dict[str, str]]:
    """C/S Sec. in grace: the policy's remedy, whose warning that component distribution and
    updates will stop is what a C/S Sec. lapse does. Another product: what its lapse leaves
    running (the list below is what stops) and how to renew, as its expired refusal says."""
    operation = governed_operations(slot.product)[0]
    if slot.product is Product.CS:
        return [decide(slot.product, slot.state, operation).remedy]
    renew = decide(slot.product, LicenseState.EXPIRED, operation).remedy
    return [AFTER_LAPSE[slot.product], renew]


def revoked_banner(slot: SlotView) -> Banner:
    """The vendor revoked the code (a signed revocation, licensing.activation): what stopped
    and the one way out, a new code."""
    name = {"ja": slot.product.name_in("ja"), "en": slot.product.name_in("en")}
    return Banner(
        level="danger",
        kind="license-revoked",
        title={
            "ja": f"{name['ja']}のアクティベーションコードは失効しています。",
            "en": f"The {name['en']} activation code has been revoked.",
        },
        body=[
            {
                "ja": (
                    "ライセンスサーバがこのコードを失効させたため、次の機能を停止しました。"
                    "ウイルス検索やクライアントのインストール、ログの記録などは引き続き利用できます。"
                    "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる新しい"
                    "アクティベーションコードを[製品ライセンス]の[新規入力]から入力してください"
                    "（ライセンスサーバで確認されてから有効になります）。"
                ),
                "en": (
                    "The license service revoked this code, so the following have stopped. "
                    "Scanning, client installs, logging and the rest keep working. Contact "
                    "corporate support, then enter a new activation code that the license server "
                    "confirms with Enter new code on the Product License page (it takes effect "
                    "once the license server has confirmed it)."
                ),
            }
        ],
        items=_ops(stopped_operations(slot.product, LicenseState.REVOKED)),
        items_title={"ja": "停止している機能", "en": "Stopped"},
        badge=badge_of(slot.product, LicenseState.REVOKED)[0],
        badge_id=badge_of(slot.product, LicenseState.REVOKED)[1],
    )


def rejected_banner(slot: SlotView) -> Banner:
    """The vendor signed that it never issued the code (licensing.refusals): what stopped
    and the way out, a new code the license server confirms."""
    name = {"ja": slot.product.name_in("ja"), "en": slot.product.name_in("en")}
    return Banner(
        level="danger",
        kind="license-rejected",
        title={
            "ja": (
                f"{name['ja']}のアクティベーションコードは、ライセンスサーバで無効と"
                "回答されました。"
            ),
            "en": f"The license server refused the {name['en']} activation code.",
        },
        body=[
            {
                "ja": (
                    "ライセンスサーバは、このコードを発行していないと署名付きで回答しました。"
                    "そのため次の機能を停止しました。ウイルス検索やクライアントのインストール、"
                    "ログの記録などは引き続き利用できます。法人お問合せ窓口にお問い合わせのうえ、"
                    "ライセンスサーバで確認できる新しいアクティベーションコードを[製品ライセンス]の"
                    "[新規入力]から入力してください（ライセンスサーバで確認されてから有効に"
                    "なります）。"
                ),
                "en": (
                    "The license server signed that it never issued this code, so the "
                    "following have stopped. Scanning, client installs, logging and the rest "
                    "keep working. Contact corporate support, then enter a new activation code "
                    "that the license server confirms with Enter new code on the Product "
                    "License page (it takes effect once the license server has confirmed it)."
                ),
            }
        ],
        items=_ops(stopped_operations(slot.product, LicenseState.REJECTED)),
        items_title={"ja": "停止している機能", "en": "Stopped"},
        badge=badge_of(slot.product, LicenseState.REJECTED)[0],
        badge_id=badge_of(slot.product, LicenseState.REJECTED)[1],
    )


def clock_banner(time: TimeView) -> Banner | None:
    if not time.rolled_back:
        return None
    seen = f"{time.latest_seen.astimezone(UTC):%Y-%m-%d %H:%M}"
    return Banner(
        level="danger",
        title={
            "ja": "システム時刻が 1 日以上戻されています。",
            "en": "The system clock has been set back by more than a day.",
        },
        body=[
            {
                "ja": (
                    f"これまでに確認した最新の時刻は {seen} (UTC)です。"
                    "ライセンスの状態はこの時刻で判定されるため、時刻を戻しても"
                    "ライセンスは延長されません。サーバの時刻設定 (NTP)を確認してください。"
                ),
                "en": (
                    f"The latest time this server has seen is {seen} (UTC). License state is "
                    "judged by it, so setting the clock back extends nothing. Check the server's "
                    "time settings (NTP)."
                ),
            }
        ],
        items=[],
        items_title={"ja": "", "en": ""},
        kind="clock",
    )


def seats_banner(slot: SlotView, window_days: int) -> Banner | None:
    """Over the seats: what the count is, that client install keeps working, what to do."""
    if not slot.seats_over:
        return None
    name = {"ja": slot.product.name_in("ja"), "en": slot.product.name_in("en")}
    used, seats = slot.seats_used, slot.seats
    return Banner(
        level="warning",
        kind="seats",
        title={
            "ja": f"{name['ja']}の使用数 ({used})がライセンス数 ({seats})を超えています。",
            "en": f"{name['en']}: {used} clients in use exceed the {seats} licensed seats.",
        },
        body=[
            {
                "ja": (
                    f"使用数は過去 {window_days} 日以内にサーバに接続したクライアントの数です。"
                    "クライアントのインストールは席数にかかわらず引き続き可能です。"
                    "使用していないクライアントを [クライアント一覧]から削除するか、"
                    "ライセンス数の追加を販売代理店または法人お問合せ窓口にご相談ください。"
                ),
                "en": (
                    f"Clients in use are those seen by the server within {window_days} days. "
                    "Client installs keep working whatever the count. Remove clients no longer "
                    "in use from the Client list, or ask your reseller or corporate support "
                    "about adding seats."
                ),
            }
        ],
        items=[],
        items_title={"ja": "", "en": ""},
    )


def components_stale_banner(since: datetime | None, now: datetime, tz: tzinfo) -> Banner | None:
    """ "Components stale since …": the TUF timestamp this server last verified expired at
    `since` and nothing fresher arrived (ActiveUpdate unreachable, or updates being frozen).
    After the grace period the license banner says what is refused; this one stays."""
    if since is None or since > now:
        return None
    when = since.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return Banner(
        level="warning",
        kind="components-stale",
        title={
            "ja": f"コンポーネントは{when}から最新か確認できていません。",
            "en": f"Components stale since {when}.",
        },
        body=[
            {
                "ja": (
                    "ActiveUpdateから新しい署名付きメタデータが届いていません。ネットワークと"
                    "プロキシの設定を確認し、[アップデート] → [コンポーネント]で"
                    "[今すぐアップデート]を押してください。クライアントにも同じ警告が"
                    "表示されます。"
                ),
                "en": (
                    "No fresh signed metadata has arrived from ActiveUpdate. Check the network "
                    "and proxy settings, then press Update now under Updates → Components. "
                    "Clients show the same warning."
                ),
            }
        ],
        items=[],
        items_title={"ja": "", "en": ""},
    )
