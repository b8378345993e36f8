"""What a person reads for the codes the logs store: event kinds (`license.check_failed`) and
error codes (`revoked_activation_code`). Stored values stay stable machine codes; pages and
CSV show these labels in the reader's language. An unknown kind falls back to its group's
label (the part before the dot), an unknown code to a generic label, never the raw code.
"""

from __future__ import annotations

from collections.abc import Mapping

from cssec.core.policy import Component

__all__ = [
    "CONNECTION_RESULT_LABELS",
    "ERROR_LABELS",
    "EVENT_KIND_LABELS",
    "REQUEST_LABELS",
    "ROUTE_LABELS",
    "SCAN_TYPE_LABELS",
    "VIRUS_ACTION_LABELS",
    "component_label",
    "connection_failed",
    "connection_result_label",
    "error_label",
    "event_kind_label",
    "group_label",
    "label_of",
    "request_label",
]

Label = dict[str, str]

EVENT_KIND_LABELS: dict[str, Label] = {
    "server.installed": {"ja": "サーバのインストール", "en": "Server installed"},
    "license.activated": {"ja": "アクティベート", "en": "Activated"},
    "license.activation_refused": {"ja": "コードを拒否", "en": "Code refused"},
    "license.check_succeeded": {"ja": "オンライン確認", "en": "Online check"},
    "license.check_failed": {"ja": "オンライン確認の失敗", "en": "Online check failed"},
    "license.check_caught_up": {"ja": "確認の再実行", "en": "Missed check run"},
    "license.revoked": {"ja": "ライセンスの失効", "en": "License revoked"},
    "license.rejected": {
        "ja": "ライセンスの無効（ライセンスサーバの回答）",
        "en": "License refused by the license server",
    },
    "license.request_written": {"ja": "更新要求ファイルの作成", "en": "Renewal request written"},
    "license.renewed_by_file": {"ja": "更新応答ファイルの取り込み", "en": "Renewal file imported"},
    "clock.rollback": {"ja": "時刻の巻き戻し", "en": "Clock set back"},
    "auth.account_locked": {"ja": "アカウントのロック", "en": "Account locked"},
    "auth.password_changed": {"ja": "パスワードの変更", "en": "Password changed"},
    "vendor.keys_pinned": {"ja": "公開鍵の保存", "en": "Vendor keys pinned"},
    "vendor.keys_rotated": {"ja": "公開鍵の更新", "en": "Vendor keys rotated"},
    "client.enrolled": {"ja": "クライアントの登録", "en": "Client enrolled"},
    "client.removed": {"ja": "クライアントの削除", "en": "Client removed"},
    "client.install_token_web": {"ja": "Webインストールの発行", "en": "Web install issued"},
    "client.install_token_remote": {
        "ja": "リモートインストールの発行",
        "en": "Remote install issued",
    },
    "cleanup.requested": {"ja": "感染復旧の要求", "en": "Cleanup requested"},
    "cleanup.completed": {"ja": "感染復旧の完了", "en": "Cleanup completed"},
    "logs.purged": {"ja": "ログの削除", "en": "Logs purged"},
    "logs.settings_changed": {"ja": "ログ設定の変更", "en": "Log settings changed"},
    "mail.send_failed": {"ja": "メール送信の失敗", "en": "Mail not sent"},
    "mail.settings_changed": {"ja": "メール設定の変更", "en": "Mail settings changed"},
    "outbreak.alert": {"ja": "アウトブレークの警告", "en": "Outbreak alert"},
    "outbreak.acknowledged": {"ja": "警告の確認", "en": "Alert acknowledged"},
    "outbreak.monitor_settings": {"ja": "監視設定の変更", "en": "Monitor settings changed"},
    "outbreak.notify_failed": {"ja": "通知の失敗", "en": "Notification failed"},
    "outbreak_prevention.set": {"ja": "大規模感染予防の設定", "en": "Prevention set"},
    "outbreak_prevention.deployed": {"ja": "大規模感染予防の配信", "en": "Prevention deployed"},
    "outbreak_prevention.released": {"ja": "大規模感染予防の解除", "en": "Prevention released"},
    "realtime.client_set": {"ja": "リアルタイム検索の変更", "en": "Real-time scan changed"},
    "realtime.default_set": {
        "ja": "リアルタイム検索の既定値の変更",
        "en": "Real-time scan default changed",
    },
    "seats.exceeded": {"ja": "ライセンス数の超過", "en": "Seats exceeded"},
    "seats.within": {"ja": "ライセンス数内に回復", "en": "Back within the seats"},
    "components.stale": {"ja": "コンポーネントの更新停止", "en": "Components stale"},
    "components.pilot_promoted": {
        "ja": "パイロット確認済みの配信",
        "en": "Pilot components promoted",
    },
    "components.pilot_rolled_back": {
        "ja": "パイロットの障害による復元",
        "en": "Pilot components rolled back",
    },
    "components.rollout_timing_changed": {
        "ja": "段階的配信のタイミングの変更",
        "en": "Rollout timing changed",
    },
}

GROUP_LABELS: dict[str, Label] = {
    "server": {"ja": "サーバ", "en": "Server"},
    "license": {"ja": "ライセンス", "en": "License"},
    "clock": {"ja": "時刻", "en": "Clock"},
    "auth": {"ja": "認証", "en": "Sign-in"},
    "vendor": {"ja": "ライセンスサーバ", "en": "License service"},
    "client": {"ja": "クライアント", "en": "Client"},
    "cleanup": {"ja": "ウイルス感染復旧", "en": "Damage cleanup"},
    "logs": {"ja": "ログ管理", "en": "Log management"},
    "mail": {"ja": "メール通知", "en": "Mail"},
    "outbreak": {"ja": "アウトブレークモニタ", "en": "Outbreak monitor"},
    "outbreak_prevention": {"ja": "大規模感染予防", "en": "Outbreak prevention"},
    "realtime": {"ja": "リアルタイム検索", "en": "Real-time scan"},
    "seats": {"ja": "ライセンス数", "en": "Seats"},
    "components": {"ja": "コンポーネント", "en": "Components"},
}
OTHER: Label = {"ja": "その他", "en": "Other"}

ERROR_LABELS: dict[str, Label] = {
    "vendor_unreachable": {
        "ja": "ライセンスサーバに接続できません",
        "en": "License service unreachable",
    },
    "untrusted_statement": {"ja": "応答を検証できません", "en": "Answer not verifiable"},
    "revoked_activation_code": {"ja": "コードは失効しています", "en": "Code revoked"},
    "invalid_activation_code": {"ja": "無効なコード", "en": "Invalid code"},
    "expired_activation_code": {"ja": "期限切れのコード", "en": "Expired code"},
    "rate_limited": {"ja": "要求が多すぎます", "en": "Too many requests"},
    "vendor_key_required": {"ja": "公開鍵が未設定です", "en": "No vendor key"},
    "untrusted_vendor_key": {"ja": "公開鍵が一致しません", "en": "Vendor key mismatch"},
    "invalid_license_response": {"ja": "応答ファイルを検証できません", "en": "Bad response file"},
    "license_response_wrong_server": {"ja": "別のサーバ宛ての応答", "en": "For another server"},
    "license_response_unknown_request": {
        "ja": "対応する更新要求がありません",
        "en": "No matching request",
    },
}
ERROR_OTHER: Label = {"ja": "エラー", "en": "Error"}

# What a client asked for (the connection status log's 要求 column): the first path
# segment of the agent API.
REQUEST_LABELS: dict[str, Label] = {
    "enroll": {"ja": "インストール（登録）", "en": "Install (enrollment)"},
    "heartbeat": {"ja": "稼働確認", "en": "Heartbeat"},
    "manifest": {"ja": "アップデートの確認", "en": "Update check"},
    "files": {"ja": "コンポーネントのダウンロード", "en": "Component download"},
    "update-result": {"ja": "アップデート結果の報告", "en": "Update result report"},
    "virus-log": {"ja": "ウイルスログの送信", "en": "Virus log upload"},
    "cleanup-result": {"ja": "感染復旧結果の報告", "en": "Cleanup result report"},
    "outbreak-policy": {"ja": "大規模感染予防の適用報告", "en": "Outbreak prevention report"},
    "vendor-keys": {"ja": "公開鍵の取得", "en": "Vendor keys"},
    "tls-renewals": {"ja": "証明書の更新", "en": "Certificate renewal"},
    "tuf": {"ja": "アップデート情報の取得", "en": "Update metadata"},
}
REQUEST_OTHER: Label = {"ja": "その他の要求", "en": "Other request"}

# How a call ended (the connection status log's 結果 column): "ok", a heartbeat's status
# word, or the code of a refusal.
CONNECTION_RESULT_LABELS: dict[str, Label] = {
    "ok": {"ja": "成功", "en": "OK"},
    "online": {"ja": "稼働中", "en": "Online"},
    "not_authenticated": {"ja": "認証できません", "en": "Not authenticated"},
    "invalid_install_token": {"ja": "無効なインストールトークン", "en": "Invalid install token"},
    "install_token_expired": {
        "ja": "インストールトークンの期限切れ",
        "en": "Install token expired",
    },
    "install_token_wrong_host": {
        "ja": "インストールトークンのホスト名が違います",
        "en": "Install token for another host",
    },
    "autopcc_not_allowed": {
        "ja": "許可されていないネットワーク",
        "en": "Network not allowed",
    },
    "rate_limited": {"ja": "要求が多すぎます", "en": "Too many requests"},
    "license_expired": {"ja": "ライセンスの期限切れ", "en": "License expired"},
    "license_revoked": {"ja": "ライセンスの失効", "en": "License revoked"},
    "license_rejected": {
        "ja": "ライセンスの無効（ライセンスサーバの回答）",
        "en": "License refused by the license server",
    },
}
CONNECTION_OK = ("ok", "online")

# The virus log: how a client found a threat and what it did with it.
SCAN_TYPE_LABELS: dict[str, Label] = {
    "scan_now": {"ja": "手動検索（ScanNow）", "en": "Manual scan (ScanNow)"},
    "realtime": {"ja": "リアルタイム検索", "en": "Real-time scan"},
    "cleanup": {"ja": "ウイルス感染復旧", "en": "Damage Cleanup"},
}
VIRUS_ACTION_LABELS: dict[str, Label] = {
    "quarantine": {"ja": "隔離", "en": "Quarantined"},
    "delete": {"ja": "削除", "en": "Deleted"},
    "report": {"ja": "放置（通知のみ）", "en": "Reported only"},
    "failed": {"ja": "処理失敗", "en": "Failed"},
}
# How a client was installed (the clients page).
ROUTE_LABELS: dict[str, Label] = {
    "web": {"ja": "Webインストール", "en": "Web install"},
    "remote": {"ja": "リモートインストール", "en": "Remote install"},
    "autopcc": {"ja": "AutoPcc", "en": "AutoPcc"},
}
CONNECTION_OTHER: Label = {"ja": "失敗", "en": "Failed"}


def _pick(label: Mapping[str, str], lang: str) -> str:
    return label["en" if lang.startswith("en") else "ja"]


def event_kind_label(kind: str, lang: str) -> str:
    """A kind's label; an unknown one (outbreak_prevention.deploy_failed, say) is named
    by its group, with what follows the group's dot left out."""
    if kind in EVENT_KIND_LABELS:
        return _pick(EVENT_KIND_LABELS[kind], lang)
    group = kind.split(".", 1)[0]
    return _pick(GROUP_LABELS.get(group, OTHER), lang)


def group_label(prefix: str, lang: str) -> str:
    """A kind filter's label ("license." → ライセンス / License)."""
    return _pick(GROUP_LABELS.get(prefix.rstrip("."), OTHER), lang)


def request_label(action: str, lang: str) -> str:
    """A connection log request kind's label ("update-result" → アップデート結果の報告)."""
    return _pick(REQUEST_LABELS.get(action, REQUEST_OTHER), lang)


def connection_result_label(status: str, lang: str) -> str:
    """A connection log result's label; an unknown word or code reads as a failure."""
    return _pick(CONNECTION_RESULT_LABELS.get(status, CONNECTION_OTHER), lang)


def connection_failed(status: str) -> bool:
    return status not in CONNECTION_OK


def label_of(table: Mapping[str, Label], value: str | None, lang: str) -> str:
    """`value`'s label in `table`; an unknown value reads as その他 / Other, none as "-"."""
    if not value:
        return "-"
    return _pick(table.get(value, OTHER), lang)


def component_label(name: str | None, lang: str) -> str:
    """A stored component name ("virus_pattern" → ウイルスパターンファイル); "-" for none."""
    if not name:
        return "-"
    try:
        return Component(name).label(lang)
    except ValueError:
        return _pick(OTHER, lang)


def error_label(code: str | None, lang: str) -> str:
    """A stored error code's label (a slot's last_error, an event's cause)."""
    if not code:
        return "-"
    return _pick(ERROR_LABELS.get(code, ERROR_OTHER), lang)
