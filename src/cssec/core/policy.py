"""What each license state allows: one precomputed table, decided in O(1).

The FAQ lists what stops once the grace period is over (distributing the four
components, a client's manual update, ActiveUpdate downloads) and what keeps working
(scanning, cleanup, installs, the Web manager, logs, outbreak tools). Every place that
must refuse asks `decide` instead of comparing states itself, so the rule lives here once
and each refusal carries the same reason and the same way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from cssec.core.errors import LicenseExpired
from cssec.core.license import LicenseState

REASON_ALLOWED = "allowed"
REASON_LICENSE_EXPIRED = "license_expired"


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


def distribution_operation(component: Component) -> Operation:
    """The operation that hands `component` to clients, so callers never build names."""
    return _DISTRIBUTION[component]


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


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one (state, operation): shared, precomputed, never mutated."""

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

    def raise_if_refused(self) -> None:
        """Turn a refusal into the one error every app maps to HTTP 403 `license_expired`."""
        if self.allowed:
            return
        raise LicenseExpired(
            operation=self.operation.value,
            state=self.state.value,
            operation_ja=self.operation.label("ja"),
            operation_en=self.operation.label("en"),
            reason=dict(self.message),
        )


_AFTER_REVOCATION = {
    "ja": (
        "法人お問合せ窓口にお問い合わせのうえ、[運用管理] → [製品ライセンス] → [新規入力]で"
        "新しいアクティベーションコードを入力してください。"
    ),
    "en": (
        "Contact corporate support, then enter a new activation code under Administration → "
        "Product License → Enter new code."
    ),
}


def _build(state: LicenseState, op: Operation) -> Decision:
    ja, en = op.label("ja"), op.label("en")
    if state is LicenseState.REVOKED:
        refused = op in RESTRICTED_AFTER_GRACE
        return Decision(
            operation=op,
            state=state,
            allowed=not refused,
            reason=REASON_LICENSE_EXPIRED if refused else REASON_ALLOWED,
            message={
                "ja": f"{ja}はできません。アクティベーションコードが失効しています。"
                if refused
                else f"{ja}を実行できます ({state.label('ja')})。",
                "en": f"{en} is refused: the activation code has been revoked."
                if refused
                else f"{en} is allowed ({state.label('en')}).",
            },
            remedy=dict(_AFTER_REVOCATION),
        )
    if state is LicenseState.EXPIRED and op in RESTRICTED_AFTER_GRACE:
        return Decision(
            operation=op,
            state=state,
            allowed=False,
            reason=REASON_LICENSE_EXPIRED,
            message={
                "ja": f"{ja}はできません。ライセンスの有効期限と更新猶予期間が終了しています。",
                "en": f"{en} is refused: the license and its grace period have ended.",
            },
            remedy=dict(_HOW_TO_RENEW),
        )
    if state is LicenseState.ACTIVATED:
        remedy = dict(_NO_REMEDY)
    elif state is LicenseState.GRACE_PERIOD:
        remedy = {lang: f"{_GRACE_WARNING[lang]} {_HOW_TO_RENEW[lang]}" for lang in ("ja", "en")}
    else:
        remedy = {lang: f"{_STALE_WARNING[lang]} {_HOW_TO_RENEW[lang]}" for lang in ("ja", "en")}
    return Decision(
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


POLICY_TABLE: Mapping[tuple[LicenseState, Operation], Decision] = MappingProxyType(
    {(state, op): _build(state, op) for state in LicenseState for op in Operation}
)
_TABLE = dict(POLICY_TABLE)


def decide(state: LicenseState, operation: Operation) -> Decision:
    """Look the pair up in the table; unknown values fail loudly with KeyError."""
    return _TABLE[state, operation]
