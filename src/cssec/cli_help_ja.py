"""Japanese help for `cssec`, `cssec server` and `cssec client`: each English help text
(command docstring or option help, whitespace collapsed) → its Japanese. `cssec.clikit`
shows these when the output language is Japanese; a text missing here stays English."""

from __future__ import annotations

HELP_JA: dict[str, str] = {
    # cssec
    "C/S Sec. licensing: the vendor service, the on-site server and its clients.": (
        "C/S Sec.のライセンス管理: ライセンスサービス、社内に置くサーバとそのクライアント。"
    ),
    "The vendor license service and ActiveUpdate.": (
        "ライセンスサービスとActiveUpdate（メーカー用）。"
    ),
    "The on-site C/S Sec. server and its Web manager.": "社内に置くC/S Sec.サーバとWebマネージャ。",
    "The C/S Sec. client agent.": "C/S Sec.クライアント。",
    "Start a vendor, a server installed by online registration and two clients, on SQLite.": (
        "ライセンスサービス、オンライン登録でインストールしたサーバ、2台のクライアントを起動します"
        "（SQLite）。"
    ),
    "An empty directory to keep (default: a temporary one).": (
        "データを残す空のディレクトリ（既定: 終了時に削除する一時ディレクトリ）。"
    ),
    "Vendor port (default: a free one).": "ライセンスサービスのポート（既定: 空いているポート）。",
    "Server port (default: a free one).": "サーバのポート（既定: 空いているポート）。",
    "Output language, ja or en (default: from LC_ALL / LC_MESSAGES / LANG, else ja).": (
        "出力の言語: ja または en（既定: LC_ALL、LC_MESSAGES、LANGの順に判定、なければ ja）。"
    ),
    "Show this message and exit.": "このヘルプを表示して終了します。",
    # cssec client
    "C/S Sec. client: install from a server, update components, scan (ScanNow), real-time "
    "scan, damage cleanup, outbreak prevention policy.": (
        "C/S Sec.クライアント: サーバからのインストール、コンポーネントのアップデート、手動検索"
        "（ScanNow）、リアルタイム検索、ウイルス感染復旧、大規模感染予防ポリシー。"
    ),
    "Install this client from a C/S Sec. server and fetch its components. Over HTTPS the "
    "server's certificate must match the fingerprint (in the token, or --fingerprint) before "
    "anything is sent; the client then trusts that certificate only.": (
        "C/S Sec.サーバからこのクライアントをインストールし、コンポーネントを取得します。"
        "HTTPSでは、"
        "何かを送る前にサーバの証明書がフィンガープリント（トークン内または --fingerprint）と"
        "一致することを確認し、以後その証明書だけを信頼します。"
    ),
    "The C/S Sec. server's URL.": "C/S Sec.サーバのURL。",
    "The client's directory (state and components).": (
        "クライアントのディレクトリ（状態とコンポーネント）。"
    ),
    "One-time install token.": "1回限りのインストールトークン。",
    "Install route (default: autopcc, or web when --token is given).": (
        "インストール方法（既定: autopcc、--token を指定したときは web）。"
    ),
    "sha256:<64 hex> of the server's certificate ('cssec server cert show'); an install token "
    "from the Web manager carries it already.": (
        "サーバ証明書の sha256:<16進64文字>（cssec server cert show で表示）。Webマネージャの"
        "インストールトークンには含まれています。"
    ),
    "Allow plain HTTP to a server on another computer.": (
        "ほかのコンピュータのサーバにHTTP（暗号化なし）で接続することを許可します。"
    ),
    "Update the components through the server (manual update).": (
        "サーバ経由でコンポーネントをアップデートします（手動アップデート）。"
    ),
    "ScanNow: exit 0 clean, 1 threats found, 2 errors.": (
        "手動検索（ScanNow）: 終了コード 0 は検出なし、1 は検出あり、2 はエラー。"
    ),
    "A file or directory to scan.": "検索するファイルまたはフォルダ。",
    "Apply the damage cleanup template (quarantine/delete).": (
        "ウイルス感染復旧テンプレートを適用します（隔離または削除）。"
    ),
    "List skipped files too.": "スキップしたファイルも表示します。",
    "Show the server, components, real-time scan, outbreak prevention policy and reports.": (
        "サーバ、ライセンス、コンポーネント、リアルタイム検索、大規模感染予防ポリシー、"
        "未送信のレポートを表示します。"
    ),
    "Print JSON.": "JSONで出力します。",
    "Send a heartbeat first (applies the outbreak policy).": (
        "先にハートビートを送信します（大規模感染予防ポリシーも適用します）。"
    ),
    "Damage Cleanup: apply the damage cleanup template (works in every license state).": (
        "ウイルス感染復旧: ウイルス感染復旧テンプレートを適用します（ライセンスの状態によらず"
        "使えます）。"
    ),
    "A file or folder (default: the detections not cleaned yet).": (
        "ファイルまたはフォルダ（既定: まだ処理していない検出）。"
    ),
    "Real-time scan: scan files as they are created or changed; Ctrl-C stops.": (
        "リアルタイム検索: 作成・変更されたファイルを検索します。Ctrl-Cで終了します。"
    ),
    "A folder to watch (repeatable); the server's folders win if set.": (
        "監視するフォルダ（複数指定可）。サーバでフォルダが設定されていればそちらが優先されます。"
    ),
    "Seconds between heartbeats.": "ハートビートの間隔（秒）。",
    "One heartbeat: learn the server's settings, apply its outbreak policy, run cleanups.": (
        "ハートビートを1回送信します: サーバの設定を取得し、大規模感染予防ポリシーを適用し、"
        "要求されたウイルス感染復旧を実行します。"
    ),
    "Files Damage Cleanup moved aside: list them, restore one.": (
        "ウイルス感染復旧で隔離したファイル: 一覧表示と復元。"
    ),
    "List the quarantined files, oldest first.": "隔離したファイルを古い順に表示します。",
    "Move a quarantined file back (never overwrites; checks its SHA-256 first).": (
        "隔離したファイルを元の場所に戻します（上書きはしません。先にSHA-256を確認します）。"
    ),
    "The ID shown by list.": "list で表示される ID。",
    # cssec server
    "The C/S Sec. server.": "C/S Sec.サーバ。",
    "Install the server: no activation code (or registration key), no install. The vendor's "
    "keys are trusted only from what the distribution carries or what is given here, never "
    "from whatever answers first. Makes the server's TLS certificate (or takes "
    "--tls-cert/--tls-key) and prints its fingerprint, which clients pin.": (
        "サーバをインストールします。アクティベーションコード（またはレジストレーションキー）が"
        "なければインストールできません。ライセンスサービスの公開鍵は、配布物に含まれるものか"
        "ここで指定したものだけを信頼します。サーバのTLS証明書を作成し（または --tls-cert/"
        "--tls-key を使い）、クライアントが照合するフィンガープリントを表示します。"
    ),
    "The vendor service's URL.": "ライセンスサービスのURL。",
    "File whose first line is the password.": "1行目がパスワードのファイル。",
    "Data directory (default: per-user).": "データディレクトリ（既定: ユーザーごと）。",
    "XX-XXXX-XXXX-XXXX-XXXX (online).": "XX-XXXX-XXXX-XXXX-XXXX（オンライン登録）。",
    "The C/S Sec. activation code.": "C/S Sec.のアクティベーションコード。",
    "No network: check the code by its structure.": (
        "ネットワークを使いません: コードはその構造で確認します。"
    ),
    "For online registration (default: host name).": ("オンライン登録用（既定: ホスト名）。"),
    "For online registration.": "オンライン登録用。",
    "sha256:<64 hex> of the vendor's public key, received out of band ('cssec vendor keys "
    "public' prints it). Repeatable.": (
        "別の経路で受け取ったライセンスサービスの公開鍵の sha256:<16進64文字>（cssec vendor keys "
        "public で表示）。複数指定可。"
    ),
    "The vendor's public keys (the JWKS 'cssec vendor keys public' prints).": (
        "ライセンスサービスの公開鍵（cssec vendor keys public が出力するJWKS）。"
    ),
    "Name or address in the server's self-signed certificate (repeatable; default: this "
    "machine's FQDN, its short name and 127.0.0.1).": (
        "サーバの自己署名証明書に入れる名前またはアドレス（複数指定可。既定: このコンピュータの"
        "FQDN、短い名前、127.0.0.1）。"
    ),
    "Serve this certificate (PEM) instead of a self-signed one.": (
        "自己署名証明書の代わりにこの証明書（PEM）を使います。"
    ),
    "Its private key (PEM, no passphrase).": "その秘密鍵（PEM、パスフレーズなし）。",
    "CA certificates (PEM) that verify the vendor's HTTPS, instead of the system store; kept "
    "in the data directory for every later call.": (
        "ライセンスサービスのHTTPSを検証するCA証明書（PEM）。システムの証明書ストアの代わりに"
        "使い、データディレクトリに保存して以後も使います。"
    ),
    "Allow a plain http:// vendor URL that is not loopback (not recommended).": (
        "ループバック以外の http:// のライセンスサービスURLを許可します（非推奨）。"
    ),
    "Serve the Web manager and the JSON API over HTTPS; runs the scheduled license checks. "
    "The certificate is the data directory's (made at install; `cssec server cert renew` "
    "replaces it), read when serving starts: restart after a renewal.": (
        "WebマネージャとJSON APIをHTTPSで提供し、ライセンスの定期確認を実行します。証明書は"
        "データディレクトリのもの（インストール時に作成。cssec server cert renew で更新）で、"
        "起動時に読み込みます。更新後は再起動してください。"
    ),
    "Serve plain HTTP instead of HTTPS (not recommended).": (
        "HTTPSの代わりにHTTP（暗号化なし）で提供します（非推奨）。"
    ),
    "Back up the database, the keys, the certificate and the components into one archive "
    "(safe while `serve` runs).": (
        "データベース、鍵、証明書、コンポーネントを1つのアーカイブにバックアップします"
        "（serve の実行中でも安全です）。"
    ),
    "Archive to write; must not exist (mode 0600).": (
        "書き出すアーカイブ。既存のファイルは指定できません（モード 0600）。"
    ),
    "Restore a backup into a new or empty data directory (never over one in use).": (
        "バックアップを新しいまたは空のデータディレクトリに復元します（使用中のものには復元"
        "しません）。"
    ),
    "An archive written by `cssec server backup`.": (
        "cssec server backup で書き出したアーカイブ。"
    ),
    "License slots of an installed server.": "インストール済みサーバのライセンス。",
    "Show the license slots (state computed now).": (
        "ライセンスを表示します（状態は現在時刻で判定）。"
    ),
    "Print the API's JSON.": "APIと同じJSONで出力します。",
    "Check every slot's status with the vendor now (safe while `serve` runs).": (
        "すべてのライセンスのステータスを今すぐオンラインで確認します"
        "（serve の実行中でも安全です）。"
    ),
    "Enter a new activation code (verified online when the vendor answers).": (
        "新しいアクティベーションコードを入力します（ライセンスサービスに接続できればオンラインで"
        "確認します）。"
    ),
    "The new activation code.": "新しいアクティベーションコード。",
    "Replace the code even when the new one lowers the license (earlier expiry, fewer seats, "
    "another contract).": (
        "新しいコードでライセンスが下がる場合（有効期限が早い、ライセンス数が少ない、別の契約）も"
        "置き換えます。"
    ),
    "Write a renewal request signed by this server, for a license service it cannot reach: "
    "answer it with `cssec vendor license respond` (or the portal), then import.": (
        "ライセンスサービスに接続できないサーバのために、このサーバが署名した更新要求を書き出します。"
        "cssec vendor license respond（またはポータル）で応答を作り、import で取り込みます。"
    ),
    "Where to write REQ.json.": "REQ.json の書き出し先。",
    "Import the license service's response to this server's request: the slots are extended "
    "exactly as an online check would.": (
        "このサーバの要求へのライセンスサービスの応答を取り込みます。オンライン確認と同じように"
        "ライセンスが延長されます。"
    ),
    "The license service's RESP.json.": "ライセンスサービスの RESP.json。",
    "Components (patterns, template, engine) and ActiveUpdate.": (
        "コンポーネント（パターンファイル、テンプレート、検索エンジン）とActiveUpdate。"
    ),
    "Show the current and previous version of each component and the last update.": (
        "各コンポーネントの現在と前のバージョン、最後のアップデートを表示します。"
    ),
    "Update the components from ActiveUpdate now (safe while `serve` runs).": (
        "ActiveUpdateから今すぐコンポーネントをアップデートします（serve の実行中でも安全です）。"
    ),
    "Undo the latest component update (all components of it, as the vendor signed them).": (
        "最後のコンポーネントのアップデートを取り消します（そのアップデートのすべてのコンポーネント）。"
    ),
    "Import a component bundle made by the vendor for this site (air-gapped servers): "
    "verified with TUF as an online update is, refused if older than what is installed.": (
        "メーカーがこのサイト用に作成したコンポーネントのバンドルを取り込みます（インターネットに"
        "接続しないサーバ用）。オンラインのアップデートと同じくTUFで検証し、インストール済みより"
        "古いものは拒否します。"
    ),
    "The bundle (`cssec vendor component bundle`).": "バンドル（cssec vendor component bundle）。",
    "The server's TLS certificate: show it, renew it.": "サーバのTLS証明書: 表示と更新。",
    "Subject, names, validity; the last line is the fingerprint clients pin.": (
        "サブジェクト、名前、有効期間を表示します。最後の行はクライアントが照合するフィンガー"
        "プリントです。"
    ),
    "Replace the certificate and its key. The old key signs the renewal, so enrolled clients "
    "follow it; restart `cssec server serve` to serve the new certificate.": (
        "証明書と鍵を置き換えます。古い鍵が更新に署名するので、登録済みのクライアントはそのまま"
        "使えます。新しい証明書で提供するには cssec server serve を再起動してください。"
    ),
    "Names/addresses of the new certificate (repeatable; default: those of the current one).": (
        "新しい証明書の名前/アドレス（複数指定可。既定: 現在の証明書と同じ）。"
    ),
    "Use this certificate (PEM) instead.": "代わりにこの証明書（PEM）を使います。",
    "Web manager accounts.": "Webマネージャのアカウント。",
    "Set a Web manager password (asked twice, or read from --password-file); every session "
    "of the account ends.": (
        "Webマネージャのパスワードを設定します（2回入力するか --password-file から読み込み）。"
        "そのアカウントのセッションはすべて終了します。"
    ),
    "The account.": "アカウント。",
    "File whose first line is the new password.": "1行目が新しいパスワードのファイル。",
}
