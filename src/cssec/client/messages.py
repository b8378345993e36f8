"""What the client CLI says, in Japanese (the default) and English.

The language comes from the POSIX locale variables, read once by the CLI and then passed
down (and sent to the server as Accept-Language, so the server's refusals arrive in the
same language).
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "ja"


def language_from_env(environ: Mapping[str, str]) -> str:
    """English ("en") when the effective locale (LC_ALL, then LC_MESSAGES, then LANG) is English.

    Japanese is the product's default, so C/POSIX and every other locale get Japanese.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


_TEXTS: dict[str, dict[str, str]] = {
    "install.ok": {
        "ja": (
            "C/S Sec. クライアントをインストールしました "
            "(クライアント ID: {client_id}、サーバ: {server_url})。"
        ),
        "en": "Installed the C/S Sec. client (client ID {client_id}, server {server_url}).",
    },
    "install.refused": {
        "ja": (
            "ライセンスの有効期限が切れているため、コンポーネントを取得できませんでした。{message}"
        ),
        "en": "Components could not be fetched because the license has expired. {message}",
    },
    "install.components_failed": {
        "ja": "インストールは完了しましたが、コンポーネントを取得できませんでした: {message}",
        "en": "The client is installed, but its components could not be fetched: {message}",
    },
    "update.success": {
        "ja": "アップデートが完了しました: {changes}",
        "en": "Update completed: {changes}",
    },
    "update.up_to_date": {
        "ja": "コンポーネントは最新です: {versions}",
        "en": "Components are up to date: {versions}",
    },
    "update.refused": {
        "ja": "アップデートは行われていません。{message}",
        "en": "Nothing was updated. {message}",
    },
    "update.failed": {
        "ja": "アップデートに失敗しました。{message}",
        "en": "The update failed. {message}",
    },
    "update.not_reported": {
        "ja": (
            "アップデート結果をサーバに送信できなかったため保存しました。次回の接続時に送信します。"
        ),
        "en": (
            "Could not send the update result to the server; "
            "it is saved and will be sent next time."
        ),
    },
    "scan.detected": {
        "ja": "{path}: {threat} を検出しました ({component} バージョン {version})",
        "en": "{path}: {threat} FOUND ({component} version {version})",
    },
    "scan.action.delete": {"ja": "{path}: 削除しました", "en": "{path}: deleted"},
    "scan.action.quarantine": {
        "ja": "{path}: 隔離しました ({target})",
        "en": "{path}: quarantined ({target})",
    },
    "scan.action.failed": {
        "ja": "{path}: {action} できませんでした ({detail})",
        "en": "{path}: could not {action} ({detail})",
    },
    "scan.skipped.symlink": {
        "ja": "{path}: シンボリックリンクのためスキップしました",
        "en": "{path}: skipped (symbolic link)",
    },
    "scan.skipped.too_large": {
        "ja": "{path}: サイズが上限 ({limit} バイト) を超えるためスキップしました",
        "en": "{path}: skipped (larger than {limit} bytes)",
    },
    "scan.skipped.not_regular": {
        "ja": "{path}: 通常のファイルではないためスキップしました",
        "en": "{path}: skipped (not a regular file)",
    },
    "scan.issue": {"ja": "{path}: エラー: {detail}", "en": "{path}: ERROR: {detail}"},
    "scan.summary": {
        "ja": (
            "検索したファイル: {files}、検出: {detections}、スキップ: {skipped}、"
            "エラー: {errors} ({versions})"
        ),
        "en": (
            "Scanned files: {files}, detections: {detections}, skipped: {skipped}, "
            "errors: {errors} ({versions})"
        ),
    },
    "scan.reported": {
        "ja": "検索結果をサーバに送信しました。",
        "en": "Sent the scan results to the server.",
    },
    "scan.queued": {
        "ja": "サーバに接続できないため、検索結果を保存しました。次回の接続時に送信します。",
        "en": "The server is unreachable; the scan results are saved and will be sent next time.",
    },
    "scan.not_reported": {
        "ja": "検索結果をサーバに送信できませんでした: {message}",
        "en": "Could not send the scan results to the server: {message}",
    },
    "status.server": {"ja": "サーバ: {value}", "en": "Server: {value}"},
    "status.client_id": {"ja": "クライアント ID: {value}", "en": "Client ID: {value}"},
    "status.not_installed": {"ja": "(未インストール)", "en": "(not installed)"},
    "status.component": {
        "ja": "{label}: バージョン {version} (前のバージョン: {previous})",
        "en": "{label}: version {version} (previous: {previous})",
    },
    "status.no_component": {"ja": "{label}: なし", "en": "{label}: none"},
    "status.serial": {
        "ja": "マニフェストのシリアル: {serial} (最終アップデート: {updated_at})",
        "en": "Manifest serial: {serial} (last update: {updated_at})",
    },
    "status.outbox": {
        "ja": "未送信のレポート: {count} 件",
        "en": "Reports waiting to be sent: {count}",
    },
    "status.online": {
        "ja": "サーバの応答: リアルタイム検索 {realtime}",
        "en": "Server says: real-time scan {realtime}",
    },
    "none": {"ja": "なし", "en": "none"},
    "on": {"ja": "有効", "en": "on"},
    "off": {"ja": "無効", "en": "off"},
}


def text(key: str, lang: str, **values: object) -> str:
    entry = _TEXTS[key]
    template = entry["en"] if lang == "en" else entry["ja"]
    return template.format(**values)
