"""What the client CLI says, in Japanese (the default) and English.

The language comes from the POSIX locale variables, read once by the CLI and then passed
down (and sent to the server as Accept-Language, so the server's refusals arrive in the
same language).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

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


LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def local_time(value: datetime | str | None, default: str = "-") -> str:
    """A stored time (aware datetime or ISO 8601 text, UTC) in this computer's time zone as
    ``YYYY-MM-DD HH:MM:SS``, the form the server's CLI and Web manager print. ``--json``
    output keeps the ISO text; only what a person reads goes through here."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        when = value
    if when.tzinfo is None:
        return when.strftime(LOCAL_TIME_FORMAT)
    return when.astimezone().strftime(LOCAL_TIME_FORMAT)


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
    "update.stepped_back": {
        "ja": "サーバがコンポーネントを以前のバージョンに戻したため、このクライアントも戻しました: "
        "{changes}",
        "en": "The server rolled its components back, so this client went back too: {changes}",
    },
    "update.component_refused": {
        "ja": "{component}は以前のバージョンのまま使用します。{message}",
        "en": "The {component} stays at the version it had. {message}",
    },
    "update.component_not_fetched": {
        "ja": "{component}は取得していません。{message}",
        "en": "The {component} was not fetched. {message}",
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
        "ja": "{path}: {threat}を検出しました ({component} バージョン {version})",
        "en": "{path}: {threat} FOUND ({component} version {version})",
    },
    "scan.action.delete": {"ja": "{path}: 削除しました", "en": "{path}: deleted"},
    "scan.action.quarantine": {
        "ja": "{path}: 隔離しました ({target})",
        "en": "{path}: quarantined ({target})",
    },
    "scan.action.failed": {
        "ja": "{path}: {action}できませんでした ({detail})",
        "en": "{path}: could not {action} ({detail})",
    },
    "scan.skipped.symlink": {
        "ja": "{path}: シンボリックリンクのためスキップしました",
        "en": "{path}: skipped (symbolic link)",
    },
    "scan.skipped.too_large": {
        "ja": "{path}: サイズが上限 ({limit} バイト)を超えるためスキップしました",
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
    "status.license": {
        "ja": "C/S Sec.のライセンス: {state}"
        "（有効期限: {expires_on}、サーバから取得: {received_at}）",
        "en": "C/S Sec. license: {state} (expires on {expires_on}; from the server at "
        "{received_at})",
    },
    "status.license_unknown": {
        "ja": "C/S Sec.のライセンス: 不明（cssec client status --onlineで確認できます）",
        "en": "C/S Sec. license: unknown (cssec client status --online asks the server)",
    },
    "status.license_ask": {
        "ja": "パターンファイルなどのアップデートは行われません。管理者にお問い合わせください。",
        "en": "Components are not being updated. Ask your administrator.",
    },
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
    "status.stale": {
        "ja": "注意：コンポーネントは{since}から最新か確認できていません"
        "（サーバから新しい署名付き更新情報が届いていません）。",
        "en": "Warning: components stale since {since} (no fresh signed update information "
        "from the server).",
    },
    "status.outbox": {
        "ja": "未送信のレポート: {count} 件",
        "en": "Reports waiting to be sent: {count}",
    },
    "none": {"ja": "なし", "en": "none"},
    "on": {"ja": "有効", "en": "on"},
    "off": {"ja": "無効", "en": "off"},
    # --- Damage Cleanup Services (clean) and quarantine ---------------------------------
    "clean.quarantined": {
        "ja": "{path}: {threat}を隔離しました (隔離 ID: {id})",
        "en": "{path}: {threat} quarantined (quarantine ID {id})",
    },
    "clean.deleted": {"ja": "{path}: {threat}を削除しました", "en": "{path}: {threat} deleted"},
    "clean.reported": {
        "ja": "{path}: {threat}を検出しました (テンプレートの処理: 報告のみ)",
        "en": "{path}: {threat} found (the template says: report only)",
    },
    "clean.failed": {
        "ja": "{path}: {threat}を処理できませんでした ({detail})",
        "en": "{path}: could not clean {threat} ({detail})",
    },
    "clean.nothing": {
        "ja": "処理が必要なファイルはありません (未処理の検出: なし)。",
        "en": "Nothing to clean (no detections left to clean).",
    },
    "clean.summary": {
        "ja": (
            "ウイルス感染復旧: 検索したファイル {files}、隔離 {quarantined}、削除 {deleted}、"
            "報告のみ {reported}、失敗 {failed}"
        ),
        "en": (
            "Damage cleanup: scanned files {files}, quarantined {quarantined}, "
            "deleted {deleted}, reported {reported}, failed {failed}"
        ),
    },
    "clean.sent": {
        "ja": "処理結果をサーバ (ウイルスログ)に送信しました。",
        "en": "Sent the cleanup results to the server (virus log).",
    },
    "clean.queued": {
        "ja": "サーバに接続できないため、処理結果を保存しました。次回の接続時に送信します。",
        "en": (
            "The server is unreachable; the cleanup results are saved and will be sent next time."
        ),
    },
    "clean.not_reported": {
        "ja": "処理結果をサーバに送信できませんでした: {message}",
        "en": "Could not send the cleanup results to the server: {message}",
    },
    "quarantine.empty": {"ja": "隔離中のファイルはありません。", "en": "No quarantined files."},
    "quarantine.entry": {
        "ja": "{id}  {at}  {threat}  {path}  (SHA-256 {sha256})",
        "en": "{id}  {at}  {threat}  {path}  (SHA-256 {sha256})",
    },
    "quarantine.restored": {
        "ja": "隔離 ID {id}のファイルを {path}に復元しました (SHA-256を確認済み)。",
        "en": "Restored the file quarantined as {id} to {path} (SHA-256 verified).",
    },
    # --- heartbeat, outbreak prevention ------------------------------------------------
    "heartbeat.ok": {
        "ja": "サーバに接続しました。リアルタイム検索: {realtime} (監視フォルダ: {folders})",
        "en": "Heartbeat sent. Real-time scan: {realtime} (folders: {folders})",
    },
    "heartbeat.own_folders": {
        "ja": "クライアントで指定したフォルダ",
        "en": "the client's own folders",
    },
    "heartbeat.policy_deploy": {
        "ja": "大規模感染予防ポリシー #{id}を適用し、サーバに報告しました。",
        "en": "Applied outbreak prevention policy #{id} and reported it to the server.",
    },
    "heartbeat.policy_release": {
        "ja": "大規模感染予防ポリシー #{id}を解除し、サーバに報告しました。",
        "en": "Released outbreak prevention policy #{id} and reported it to the server.",
    },
    "heartbeat.policy_unusable": {
        "ja": "サーバの大規模感染予防ポリシーを読み取れないため適用しませんでした ({reason})。",
        "en": "The server's outbreak prevention policy could not be read, so it was not "
        "applied ({reason}).",
    },
    "heartbeat.cleanup_ran": {
        "ja": (
            "サーバからのウイルス感染復旧の要求 #{id}を実行しました (処理したファイル: {count})。"
        ),
        "en": "Ran the server's damage cleanup request #{id} ({count} file(s) handled).",
    },
    "heartbeat.cleanup_failed": {
        "ja": "サーバからのウイルス感染復旧の要求 #{id}を実行できませんでした: {message}",
        "en": "Could not run the server's damage cleanup request #{id}: {message}",
    },
    "outbreak.scope": {
        "ja": (
            "C/S Sec.はポリシーを記録・表示し、適用/解除をサーバに報告します。"
            "ポートの遮断やファイルへのアクセス拒否は行いません (ファイアウォールは設定しません)。"
            "拒否された共有フォルダ・ファイルへの書き込みは、リアルタイム検索 (watch)"
            "がポリシー違反として記録します。"
        ),
        "en": (
            "C/S Sec. records and shows the policy and reports it applied/released; it does "
            "not block ports or deny file access (it installs no firewall). Writes into the "
            "denied shares and files are logged as policy violations by real-time scan (watch)."
        ),
    },
    # --- watch ------------------------------------------------------------------------
    "watch.on": {
        "ja": "リアルタイム検索を実行しています (監視フォルダ: {folders})。Ctrl-Cで終了します。",
        "en": "Real-time scan is running (folders: {folders}). Press Ctrl-C to stop.",
    },
    "watch.off": {
        "ja": (
            "サーバの設定でリアルタイム検索が無効になっています。"
            "検索は行わず待機し、有効になると再開します。"
        ),
        "en": (
            "Real-time scan is turned off by the server. Not scanning; waiting until it is "
            "turned on again."
        ),
    },
    "watch.no_folders": {"ja": "{message}", "en": "{message}"},
    "watch.missing_folder": {
        "ja": "監視フォルダ {path}がないため監視できません。",
        "en": "Cannot watch {path}: no such folder.",
    },
    "watch.detected": {
        "ja": "{path}: {threat}を検出しました (リアルタイム検索、パターン バージョン {version})",
        "en": "{path}: {threat} FOUND (real-time scan, pattern version {version})",
    },
    "watch.violation": {
        "ja": "大規模感染予防ポリシー違反: {path}への書き込み ({rule})を記録しました。",
        "en": "Outbreak prevention policy violation: write to {path} ({rule}) logged.",
    },
    "watch.heartbeat_failed": {
        "ja": "サーバに接続できませんでした。前回の設定で続行します: {message}",
        "en": "Heartbeat failed; continuing with the last known settings: {message}",
    },
    "watch.policy_deploy": {
        "ja": "大規模感染予防ポリシー #{id}を適用しました。",
        "en": "Outbreak prevention policy #{id} applied.",
    },
    "watch.policy_release": {
        "ja": "大規模感染予防ポリシー #{id}が解除されました。",
        "en": "Outbreak prevention policy #{id} released.",
    },
    "watch.cleanup_ran": {
        "ja": (
            "サーバからのウイルス感染復旧の要求 #{id}を実行しました (処理したファイル: {count})。"
        ),
        "en": "Ran the server's damage cleanup request #{id} ({count} file(s) handled).",
    },
    "watch.reload_failed": {
        "ja": "新しいコンポーネントを読み込めないため、現在のもので検索を続けます: {message}",
        "en": "Could not load the new components; scanning with the current ones: {message}",
    },
    "watch.stopped": {"ja": "リアルタイム検索を終了しました。", "en": "Real-time scan stopped."},
    # --- status additions -------------------------------------------------------------
    "status.realtime": {
        "ja": "リアルタイム検索 (サーバの設定): {value} (監視フォルダ: {folders}、取得: {at})",
        "en": "Real-time scan (server setting): {value} (folders: {folders}, as of {at})",
    },
    "status.realtime_unknown": {
        "ja": "リアルタイム検索 (サーバの設定): 未取得 (cssec client heartbeatで取得します)",
        "en": "Real-time scan (server setting): not known yet (cssec client heartbeat asks)",
    },
    "status.outbreak_none": {
        "ja": "大規模感染予防ポリシー: なし",
        "en": "Outbreak prevention policy: none",
    },
    "status.outbreak_deploy": {
        "ja": (
            "大規模感染予防ポリシー #{id}: 適用中 "
            "(発行: {issued_at}、適用: {at}、サーバへの報告: {reported})"
        ),
        "en": "Outbreak prevention policy #{id}: deployed (issued {issued_at}, applied {at}, "
        "reported to the server: {reported})",
    },
    "status.outbreak_release": {
        "ja": (
            "大規模感染予防ポリシー #{id}: 解除済み "
            "(発行: {issued_at}、解除: {at}、サーバへの報告: {reported})"
        ),
        "en": "Outbreak prevention policy #{id}: released (issued {issued_at}, released {at}, "
        "reported to the server: {reported})",
    },
    "status.outbreak_shares": {
        "ja": "  書き込みを拒否する共有フォルダ: {value}",
        "en": "  Shared folders denied writes: {value}",
    },
    "status.outbreak_ports": {
        "ja": "  ブロックするポート: {value}",
        "en": "  Ports to block: {value}",
    },
    "status.outbreak_files": {
        "ja": "  アクセスを拒否するファイル: {value}",
        "en": "  Files denied access: {value}",
    },
    "status.outbreak_scope": {"ja": "  注意：{scope}", "en": "  Note: {scope}"},
    "status.violations": {
        "ja": "ポリシー違反の記録: {count} 件 (最新: {last})",
        "en": "Policy violations logged: {count} (latest: {last})",
    },
    "status.quarantine": {
        "ja": "隔離中のファイル: {count} 件",
        "en": "Quarantined files: {count}",
    },
    "status.detections": {
        "ja": "未処理の検出: {count} 件 (cssec client cleanで処理します)",
        "en": "Detections not cleaned: {count} (cssec client clean cleans them)",
    },
    "yes": {"ja": "済み", "en": "yes"},
    "no": {"ja": "未", "en": "no"},
}


def text(key: str, lang: str, **values: object) -> str:
    entry = _TEXTS[key]
    template = entry["en"] if lang == "en" else entry["ja"]
    return template.format(**values)
