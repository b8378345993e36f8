"""What a person reads for the codes the logs store: event kinds (`license.check_failed`) and
error codes (`revoked_activation_code`). Stored values stay stable machine codes; pages and
CSV show these labels in the reader's language. An unknown kind falls back to its group's
label (the part before the dot), an unknown code to a generic label, never the raw code.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ERROR_LABELS", "EVENT_KIND_LABELS", "error_label", "event_kind_label", "group_label"]

Label = dict[str, str]

EVENT_KIND_LABELS: dict[str, Label] = {
    "server.installed": {"ja": "サーバのインストール", "en": "Server installed"},
    "license.activated": {"ja": "アクティベート", "en": "Activated"},
    "license.activation_refused": {"ja": "コードを拒否", "en": "Code refused"},
    "license.check_succeeded": {"ja": "オンライン確認", "en": "Online check"},
    "license.check_failed": {"ja": "オンライン確認の失敗", "en": "Online check failed"},
    "license.check_caught_up": {"ja": "確認の再実行", "en": "Missed check run"},
    "license.revoked": {"ja": "ライセンスの失効", "en": "License revoked"},
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
}
ERROR_OTHER: Label = {"ja": "エラー", "en": "Error"}


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


def error_label(code: str | None, lang: str) -> str:
    """A stored error code's label (a slot's last_error, an event's cause)."""
    if not code:
        return "-"
    return _pick(ERROR_LABELS.get(code, ERROR_OTHER), lang)
