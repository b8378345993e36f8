"""What each product's license state allows: one precomputed table, decided in O(1).

The FAQ lists what stops once the grace period is over (distributing the four
components, a client's manual update, ActiveUpdate downloads) and what keeps working
(scanning, cleanup, installs, the Web manager, logs, outbreak tools). Every place that
must refuse asks `decide` (one product) or `decide_all` (every slot a server holds)
instead of comparing states itself, so the rule lives here once and each refusal carries
the same reason and the same way out.

What each product's license governs (`GOVERNED`):

- C/S Sec. governs every restriction the FAQ lists (`RESTRICTED_AFTER_GRACE`).
- Damage Cleanup Services governs only handing its template to clients
  (`distribute_damage_cleanup_template`). The FAQ lists running Damage Cleanup among
  what keeps working after a lapse, so a DCS lapse or revocation never stops a C/S Sec.
  operation. The vendor sends the template's file only to a DCS code whose license allows
  handing it out (`licensing_product`; the signed manifest still names all four
  components and is authorized by any code of the contract).

States and what they refuse (for the operations the product governs): activated,
unconfirmed and grace_period refuse nothing; expired (`license_expired`), revoked
(`license_revoked`) and rejected (`license_rejected`) refuse them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from cssec.core.errors import LicenseExpired, LicenseRejected, LicenseRevoked, ProductNotLicensed
from cssec.core.license import LicenseState, Product

REASON_ALLOWED = "allowed"
REASON_LICENSE_EXPIRED = "license_expired"
REASON_LICENSE_REVOKED = "license_revoked"
REASON_LICENSE_REJECTED = "license_rejected"


def _lang(lang: str) -> str:
    return "en" if lang.lower().startswith("en") else "ja"


class Component(StrEnum):
    """The four ActiveUpdate components whose distribution a lapsed license stops."""

    VIRUS_PATTERN = "virus_pattern"
    DAMAGE_CLEANUP_TEMPLATE = "damage_cleanup_template"
    SPYWARE_PATTERN = "spyware_pattern"
    SCAN_ENGINE = "scan_engine"

    def label(self, lang: str) -> str:
        return _COMPONENT_LABELS[self][_lang(lang)]


class Operation(StrEnum):
    """Every operation the FAQ names, blocked or not after the grace period.

    The lower-case names are aliases of the upper-case members: the API contract spells
    them lower-case while Python convention (and `Component`) is upper-case, and both
    spellings must keep working for code written against either.
    """

    # Refused after the grace period.
    DISTRIBUTE_VIRUS_PATTERN = "distribute_virus_pattern"
    DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE = "distribute_damage_cleanup_template"
    DISTRIBUTE_SPYWARE_PATTERN = "distribute_spyware_pattern"
    DISTRIBUTE_SCAN_ENGINE = "distribute_scan_engine"
    CLIENT_MANUAL_UPDATE = "client_manual_update"
    ACTIVEUPDATE_DOWNLOAD = "activeupdate_download"
    # Always allowed.
    DAMAGE_CLEANUP_RUN = "damage_cleanup_run"
    REALTIME_SCAN = "realtime_scan"
    SCAN_NOW = "scan_now"
    CLIENT_INSTALL_WEB = "client_install_web"
    CLIENT_INSTALL_REMOTE = "client_install_remote"
    CLIENT_INSTALL_AUTOPCC = "client_install_autopcc"
    WEBMANAGER_VIEW = "webmanager_view"
    LOG_APPEND_VIRUS = "log_append_virus"
    LOG_APPEND_UPDATE_SERVER = "log_append_update_server"
    LOG_APPEND_UPDATE_CLIENT = "log_append_update_client"
    LOG_APPEND_SYSTEM_EVENT = "log_append_system_event"
    LOG_APPEND_CONNECTION_STATUS = "log_append_connection_status"
    LOG_SETTINGS_CHANGE = "log_settings_change"
    OUTBREAK_MONITOR = "outbreak_monitor"
    OUTBREAK_PREVENTION_SET = "outbreak_prevention_set"
    OUTBREAK_PREVENTION_DEPLOY = "outbreak_prevention_deploy"
    OUTBREAK_PREVENTION_RELEASE = "outbreak_prevention_release"

    distribute_virus_pattern = "distribute_virus_pattern"
    distribute_damage_cleanup_template = "distribute_damage_cleanup_template"
    distribute_spyware_pattern = "distribute_spyware_pattern"
    distribute_scan_engine = "distribute_scan_engine"
    client_manual_update = "client_manual_update"
    activeupdate_download = "activeupdate_download"
    damage_cleanup_run = "damage_cleanup_run"
    realtime_scan = "realtime_scan"
    scan_now = "scan_now"
    client_install_web = "client_install_web"
    client_install_remote = "client_install_remote"
    client_install_autopcc = "client_install_autopcc"
    webmanager_view = "webmanager_view"
    log_append_virus = "log_append_virus"
    log_append_update_server = "log_append_update_server"
    log_append_update_client = "log_append_update_client"
    log_append_system_event = "log_append_system_event"
    log_append_connection_status = "log_append_connection_status"
    log_settings_change = "log_settings_change"
    outbreak_monitor = "outbreak_monitor"
    outbreak_prevention_set = "outbreak_prevention_set"
    outbreak_prevention_deploy = "outbreak_prevention_deploy"
    outbreak_prevention_release = "outbreak_prevention_release"

    def label(self, lang: str) -> str:
        return _OPERATION_LABELS[self][_lang(lang)]


_COMPONENT_LABELS: dict[Component, dict[str, str]] = {
    Component.VIRUS_PATTERN: {"ja": "ウイルスパターンファイル", "en": "virus pattern file"},
    Component.DAMAGE_CLEANUP_TEMPLATE: {
        "ja": "ウイルス感染復旧テンプレート",
        "en": "damage cleanup template",
    },
    Component.SPYWARE_PATTERN: {"ja": "スパイウェアパターンファイル", "en": "spyware pattern file"},
    Component.SCAN_ENGINE: {"ja": "検索エンジン", "en": "scan engine"},
}

_DISTRIBUTION: dict[Component, Operation] = {
    Component.VIRUS_PATTERN: Operation.DISTRIBUTE_VIRUS_PATTERN,
    Component.DAMAGE_CLEANUP_TEMPLATE: Operation.DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE,
    Component.SPYWARE_PATTERN: Operation.DISTRIBUTE_SPYWARE_PATTERN,
    Component.SCAN_ENGINE: Operation.DISTRIBUTE_SCAN_ENGINE,
}


def _distribution_label(component: Component) -> dict[str, str]:
    return {
        "ja": f"{component.label('ja')}の配信",
        "en": f"Distributing the {component.label('en')} to clients",
    }


_OPERATION_LABELS: dict[Operation, dict[str, str]] = {
    **{op: _distribution_label(c) for c, op in _DISTRIBUTION.items()},
    Operation.CLIENT_MANUAL_UPDATE: {
        "ja": "C/S Sec. クライアントの手動アップデート",
        "en": "Manual update of a C/S Sec. client",
    },
    Operation.ACTIVEUPDATE_DOWNLOAD: {
        "ja": "ActiveUpdate サーバからのコンポーネントのダウンロード",
        "en": "Downloading components from ActiveUpdate",
    },
    Operation.DAMAGE_CLEANUP_RUN: {
        "ja": "ウイルス感染復旧サービスの実行",
        "en": "Running Damage Cleanup Services",
    },
    Operation.REALTIME_SCAN: {"ja": "リアルタイム検索", "en": "Real-time scan"},
    Operation.SCAN_NOW: {"ja": "ウイルス検索 (ScanNow)", "en": "Virus scan (ScanNow)"},
    Operation.CLIENT_INSTALL_WEB: {
        "ja": "C/S Sec. クライアントの Web インストール",
        "en": "Web install of a C/S Sec. client",
    },
    Operation.CLIENT_INSTALL_REMOTE: {
        "ja": "C/S Sec. クライアントのリモートインストール",
        "en": "Remote install of a C/S Sec. client",
    },
    Operation.CLIENT_INSTALL_AUTOPCC: {
        "ja": "AutoPccによる C/S Sec. クライアントのインストール",
        "en": "Install of a C/S Sec. client with AutoPcc",
    },
    Operation.WEBMANAGER_VIEW: {"ja": "Web マネージャの閲覧", "en": "Viewing the Web manager"},
    Operation.LOG_APPEND_VIRUS: {"ja": "ウイルスログへの追記", "en": "Appending to the virus log"},
    Operation.LOG_APPEND_UPDATE_SERVER: {
        "ja": "アップデートログ (サーバ)への追記",
        "en": "Appending to the update log (server)",
    },
    Operation.LOG_APPEND_UPDATE_CLIENT: {
        "ja": "アップデートログ (クライアント)への追記",
        "en": "Appending to the update log (client)",
    },
    Operation.LOG_APPEND_SYSTEM_EVENT: {
        "ja": "システムイベントログへの追記",
        "en": "Appending to the system event log",
    },
    Operation.LOG_APPEND_CONNECTION_STATUS: {
        "ja": "接続状態の確認ログへの追記",
        "en": "Appending to the connection status log",
    },
    Operation.LOG_SETTINGS_CHANGE: {"ja": "ログ管理の設定変更", "en": "Changing the log settings"},
    Operation.OUTBREAK_MONITOR: {
        "ja": "アウトブレークモニタの使用",
        "en": "Using the outbreak monitor",
    },
    Operation.OUTBREAK_PREVENTION_SET: {
        "ja": "大規模感染予防の設定",
        "en": "Setting outbreak prevention",
    },
    Operation.OUTBREAK_PREVENTION_DEPLOY: {
        "ja": "大規模感染予防の配信",
        "en": "Deploying outbreak prevention",
    },
    Operation.OUTBREAK_PREVENTION_RELEASE: {
        "ja": "大規模感染予防の解除",
        "en": "Releasing outbreak prevention",
    },
}

RESTRICTED_AFTER_GRACE: frozenset[Operation] = frozenset(
    {
        *_DISTRIBUTION.values(),
        Operation.CLIENT_MANUAL_UPDATE,
        Operation.ACTIVEUPDATE_DOWNLOAD,
    }
)
"""The FAQ's 制限される動作: everything that brings new components in or hands them out."""


GOVERNED: Mapping[Product, frozenset[Operation]] = MappingProxyType(
    {
        Product.CS: RESTRICTED_AFTER_GRACE,
        Product.DCS: frozenset({Operation.DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE}),
    }
)
"""The operations each product's license can refuse (see the module docstring)."""

LAPSED_STATES: frozenset[LicenseState] = frozenset(
    {LicenseState.EXPIRED, LicenseState.REVOKED, LicenseState.REJECTED}
)
"""The states in which a product refuses what it governs."""


def distribution_operation(component: Component) -> Operation:
    """The operation that hands `component` to clients, so callers never build names."""
    return _DISTRIBUTION[component]


def licensing_product(component: Component) -> Product:
    """The product whose activation code, and live license, ActiveUpdate asks before sending
    `component`'s file: the product besides C/S Sec. that governs handing it out (the
    Damage Cleanup template: Damage Cleanup Services), else C/S Sec."""
    operation = _DISTRIBUTION[component]
    for product, governed in GOVERNED.items():
        if product is not Product.CS and operation in governed:
            return product
    return Product.CS


def not_licensed(component: Component) -> ProductNotLicensed:
    """The refusal (`product_not_licensed`) of `component` to a site or code without a live
    license of `licensing_product(component)`."""
    product = licensing_product(component)
    return ProductNotLicensed(
        component=component.value,
        component_ja=component.label("ja"),
        component_en=component.label("en"),
        product=product.value,
        product_ja=product.name_in("ja"),
        product_en=product.name_in("en"),
    )


_HOW_TO_RENEW = {
    "ja": (
        "ご契約を更新したうえで、[運用管理] → [製品ライセンス] → [新規入力]で新しい"
        "アクティベーションコードを入力するか、[ステータスをオンラインで確認]を押してください。"
    ),
    "en": (
        "Renew the contract, then enter the new activation code under Administration → "
        "Product License → Enter new code, or press Check status online."
    ),
}
_GRACE_WARNING = {
    "ja": "更新猶予期間中です。猶予期間が終わるとコンポーネントの配信とアップデートが停止します。",
    "en": (
        "The license is in its grace period; when it ends, component distribution and updates stop."
    ),
}
_STALE_WARNING = {
    "ja": (
        "コンポーネントが更新されないため、ウイルス感染の危険性が高まっています。"
        "早急にご契約を更新してください。"
    ),
    "en": "Components are no longer updated, which leaves you exposed; renew soon.",
}
_NO_REMEDY = {"ja": "", "en": ""}


_AFTER_REVOCATION = {
    "ja": (
        "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる新しい"
        "アクティベーションコードを[運用管理] → [製品ライセンス] → [新規入力]で入力してください。"
        "ライセンスサーバで確認されてから有効になります。"
    ),
    "en": (
        "Contact corporate support, then enter a new activation code that the license server "
        "confirms under Administration → Product License → Enter new code; it takes effect "
        "once the license server has confirmed it."
    ),
}
_UNCONFIRMED_NOTE = {
    "ja": (
        "このコードはまだライセンスサーバで確認されていません。接続できるようになったら"
        "[ステータスをオンラインで確認]を押してください。"
    ),
    "en": (
        "This code has not yet been confirmed by the license server. Press Check status "
        "online once the server can reach it."
    ),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one (product, state, operation): shared, precomputed, never mutated."""

    product: Product
    operation: Operation
    state: LicenseState
    allowed: bool
    reason: str
    message: dict[str, str]
    remedy: dict[str, str]

    def message_in(self, lang: str) -> str:
        return self.message[_lang(lang)]

    def remedy_in(self, lang: str) -> str:
        return self.remedy[_lang(lang)]

    def error(self) -> LicenseExpired:
        """The refusal as the one error every app maps to HTTP 403 with `reason` as its code
        (`license_expired`, `license_revoked`, `license_rejected`)."""
        cls = _ERRORS.get(self.reason, LicenseExpired)
        return cls(
            operation=self.operation.value,
            state=self.state.value,
            product=self.product.value,
            product_ja=self.product.name_in("ja"),
            product_en=self.product.name_in("en"),
            operation_ja=self.operation.label("ja"),
            operation_en=self.operation.label("en"),
            reason=dict(self.message),
        )

    def raise_if_refused(self) -> None:
        if not self.allowed:
            raise self.error()


_ERRORS: dict[str, type[LicenseExpired]] = {
    REASON_LICENSE_EXPIRED: LicenseExpired,
    REASON_LICENSE_REVOKED: LicenseRevoked,
    REASON_LICENSE_REJECTED: LicenseRejected,
}


def _refused_because(product: Product, state: LicenseState) -> tuple[str, dict[str, str]]:
    """The reason code and the sentence's second half for a lapsed state."""
    ja, en = product.name_in("ja"), product.name_in("en")
    if state is LicenseState.REVOKED:
        return REASON_LICENSE_REVOKED, {
            "ja": f"{ja}のアクティベーションコードはライセンスサーバで失効処理されています。",
            "en": f"the license server has revoked the {en} activation code.",
        }
    if state is LicenseState.REJECTED:
        return REASON_LICENSE_REJECTED, {
            "ja": f"{ja}のアクティベーションコードはライセンスサーバで無効と回答されました。",
            "en": f"the license server answered that the {en} activation code is not valid.",
        }
    if product is Product.CS:
        return REASON_LICENSE_EXPIRED, {
            "ja": "ライセンスの有効期限と更新猶予期間が終了しています。",
            "en": "the license and its grace period have ended.",
        }
    return REASON_LICENSE_EXPIRED, {
        "ja": f"{ja}のライセンスの有効期限と更新猶予期間が終了しています。",
        "en": f"the {en} license and its grace period have ended.",
    }


def _remedy(state: LicenseState) -> dict[str, str]:
    if state in (LicenseState.REVOKED, LicenseState.REJECTED):
        return dict(_AFTER_REVOCATION)
    if state is LicenseState.EXPIRED:
        return dict(_HOW_TO_RENEW)
    if state is LicenseState.GRACE_PERIOD:
        return {lang: f"{_GRACE_WARNING[lang]} {_HOW_TO_RENEW[lang]}" for lang in ("ja", "en")}
    if state is LicenseState.UNCONFIRMED:
        return dict(_UNCONFIRMED_NOTE)
    return dict(_NO_REMEDY)


def _build(product: Product, state: LicenseState, op: Operation) -> Decision:
    ja, en = op.label("ja"), op.label("en")
    refused = state in LAPSED_STATES and op in GOVERNED[product]
    if refused:
        reason, because = _refused_because(product, state)
        return Decision(
            product=product,
            operation=op,
            state=state,
            allowed=False,
            reason=reason,
            message={
                "ja": f"{ja}はできません。{because['ja']}",
                "en": f"{en} is refused: {because['en']}",
            },
            remedy=_remedy(state),
        )
    remedy = _remedy(state)
    if state in LAPSED_STATES and product is Product.CS:
        remedy = {lang: f"{_STALE_WARNING[lang]} {remedy[lang]}" for lang in ("ja", "en")}
    return Decision(
        product=product,
        operation=op,
        state=state,
        allowed=True,
        reason=REASON_ALLOWED,
        message={
            "ja": f"{ja}を実行できます ({state.label('ja')})。",
            "en": f"{en} is allowed ({state.label('en')}).",
        },
        remedy=remedy,
    )


POLICY_TABLE: Mapping[tuple[Product, LicenseState, Operation], Decision] = MappingProxyType(
    {
        (product, state, op): _build(product, state, op)
        for product in Product
        for state in LicenseState
        for op in Operation
    }
)
_TABLE = dict(POLICY_TABLE)


def decide(product: Product, state: LicenseState, operation: Operation) -> Decision:
    """Look the triple up in the table; unknown values fail loudly with KeyError."""
    return _TABLE[product, state, operation]


def decide_all(states: Mapping[Product, LicenseState], operation: Operation) -> Decision:
    """One operation on a server holding these slots: refused if any product that governs
    it refuses it (the refusal names that product, C/S Sec. first); otherwise C/S Sec.'s
    answer. A product without a slot governs nothing, except C/S Sec., without which nothing
    it governs is allowed (no license, no updates)."""
    cs = states.get(Product.CS, LicenseState.EXPIRED)
    first = decide(Product.CS, cs, operation)
    if not first.allowed:
        return first
    for product, state in states.items():
        if product is Product.CS:
            continue
        decision = decide(product, state, operation)
        if not decision.allowed:
            return decision
    return first


def stopped_operations(product: Product, state: LicenseState) -> list[Operation]:
    """What this product's slot in this state refuses, in the FAQ's order: the banner's
    list of stopped functions is exactly this."""
    return [op for op in Operation if not decide(product, state, op).allowed]


def governed_operations(product: Product) -> list[Operation]:
    """What would stop if this product's license lapsed, in the FAQ's order."""
    return [op for op in Operation if op in GOVERNED[product]]
