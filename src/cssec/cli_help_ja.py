"""Japanese help for `cssec` and its parts (vendor, server, client): each English help text
(command docstring or option help, whitespace collapsed) → its Japanese. `cssec.clikit`
shows these when the output language is Japanese; a text missing here stays English."""

from __future__ import annotations

HELP_JA: dict[str, str] = {
    # --force, backups authenticated with backup.key, second factor from the shell
    "Replace an existing file (a link is replaced, not followed).": (
        "既存のファイルを置き換えます（シンボリックリンクはたどらず、リンク自体を置き換えます）。"
    ),
    "Back up the database, the keys, the certificate and the components into one archive "
    "(safe while `serve` runs), authenticated with the data directory's backup.key (made at "
    "the first backup, never in the archive: keep a copy of it apart; restore needs it).": (
        "データベース、鍵、証明書、コンポーネントを1つのアーカイブにバックアップします"
        "（serveの実行中でも安全）。アーカイブはデータディレクトリのbackup.keyで認証されます"
        "（最初のバックアップで作成。アーカイブには含まれません。復元に必要なので、"
        "バックアップとは別の場所に控えを保管してください）。"
    ),
    "Restore a backup into a new or empty data directory (never over one in use), once it "
    "proves authentic under --key-file; nothing is extracted before.": (
        "バックアップを新しいデータディレクトリか空のデータディレクトリに復元します（使用中の"
        "ものには上書きしません）。--key-fileの鍵で正しいと確認できるまで、何も展開しません。"
    ),
    "The backed-up server's backup.key (its data directory; kept apart).": (
        "バックアップしたサーバのbackup.key（データディレクトリにあるもの。別に保管した控え）。"
    ),
    "Back up the database, the keys and the ActiveUpdate files into one archive (safe while "
    "`serve` runs; PostgreSQL needs pg_dump on PATH), authenticated with keys/backup.key "
    "(made at the first backup, never in the archive: keep a copy of it apart; restore needs "
    "it).": (
        "データベース、鍵、ActiveUpdateのファイルを1つのアーカイブにバックアップします"
        "（serveの実行中でも安全。PostgreSQLではPATHにpg_dumpが必要）。アーカイブは"
        "keys/backup.keyで認証されます（最初のバックアップで作成。アーカイブには含まれません。"
        "復元に必要なので、バックアップとは別の場所に控えを保管してください）。"
    ),
    "Restore a backup into a new or empty data directory (never over one in use), once it "
    "proves authentic under --key-file (nothing is extracted before); a PostgreSQL dump goes "
    "into the empty database CSSEC_VENDOR_DATABASE_URL names.": (
        "バックアップを新しいデータディレクトリか空のデータディレクトリに復元します（使用中の"
        "ものには上書きしません）。--key-fileの鍵で正しいと確認できるまで、何も展開しません。"
        "PostgreSQLのダンプは、CSSEC_VENDOR_DATABASE_URLが指す空のデータベースに読み込みます。"
    ),
    "The backed-up service's keys/backup.key (kept apart from the backups).": (
        "バックアップしたサービスのkeys/backup.key（バックアップとは別に保管した控え）。"
    ),
    "Give a staff member a second factor from the shell (a first administrator, the demo): "
    "prints the TOTP secret, its otpauth:// URI and ten recovery codes, once. Hand them over "
    "privately; the console asks for a code from the next login on, and every session of the "
    "user opened before ends.": (
        "スタッフに二要素認証（確認コード）を登録します（最初の管理者やデモ用）。TOTPの"
        "シークレット、otpauth:// URI、10個のリカバリーコードを一度だけ表示します。本人に"
        "安全な方法で渡してください。次回のログインから確認コードが必要になり、それまでに"
        "開いていたそのユーザーのセッションはすべて終了します。"
    ),
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
        "インストール方法（既定: autopcc、--tokenを指定したときは web）。"
    ),
    "sha256:<64 hex> of the server's certificate ('cssec server cert show'); an install token "
    "from the Web manager carries it already.": (
        "サーバ証明書の sha256:<16進64文字>（cssec server cert showで表示）。Webマネージャの"
        "インストールトークンには含まれています。"
    ),
    "Allow plain HTTP to a server on another computer.": (
        "ほかのコンピュータのサーバにHTTP（暗号化なし）で接続することを許可します。"
    ),
    "Update the components through the server (manual update).": (
        "サーバ経由でコンポーネントをアップデートします（手動アップデート）。"
    ),
    "ScanNow: exit 0 clean, 1 threats found, 2 errors.": (
        "手動検索（ScanNow）: 終了コード 0は検出なし、1は検出あり、2はエラー。"
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
    "The ID shown by list.": "listで表示される ID。",
    # cssec server
    "The C/S Sec. server.": "C/S Sec.サーバ。",
    "Install the server: no activation code (or registration key), no install. The vendor's "
    "keys are trusted only from what the distribution carries or what is given here, never "
    "from whatever answers first. Makes the server's TLS certificate (or takes "
    "--tls-cert/--tls-key) and prints its fingerprint, which clients pin.": (
        "サーバをインストールします。アクティベーションコード（またはレジストレーションキー）が"
        "なければインストールできません。ライセンスサービスの公開鍵は、配布物に含まれるものか"
        "ここで指定したものだけを信頼します。サーバのTLS証明書を作成し（または --tls-cert/"
        "--tls-keyを使い）、クライアントが照合するフィンガープリントを表示します。"
    ),
    "The vendor service's URL.": "ライセンスサービスのURL。",
    "The name the server lists this client by (default: host name).": (
        "サーバのクライアント一覧に表示される名前（既定: ホスト名）。"
    ),
    "The vendor service's URL (online installs; optional with --offline).": (
        "ライセンスサービスのURL（オンラインインストール用。--offlineでは省略可）。"
    ),
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
        "publicで表示）。複数指定可。"
    ),
    "The vendor's public keys (the JWKS 'cssec vendor keys public' prints).": (
        "ライセンスサービスの公開鍵（cssec vendor keys publicが出力するJWKS）。"
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
        "データディレクトリのもの（インストール時に作成。cssec server cert renewで更新）で、"
        "起動時に読み込みます。更新後は再起動してください。"
    ),
    "Serve plain HTTP instead of HTTPS (not recommended).": (
        "HTTPSの代わりにHTTP（暗号化なし）で提供します（非推奨）。"
    ),
    "Back up the database, the keys, the certificate and the components into one archive "
    "(safe while `serve` runs).": (
        "データベース、鍵、証明書、コンポーネントを1つのアーカイブにバックアップします"
        "（serveの実行中でも安全です）。"
    ),
    "Archive to write; must not exist (mode 0600).": (
        "書き出すアーカイブ。既存のファイルは指定できません（モード 0600）。"
    ),
    "Restore a backup into a new or empty data directory (never over one in use).": (
        "バックアップを新しいまたは空のデータディレクトリに復元します（使用中のものには復元"
        "しません）。"
    ),
    "An archive written by `cssec server backup`.": ("cssec server backupで書き出したアーカイブ。"),
    "License slots of an installed server.": "インストール済みサーバのライセンス。",
    "Show the license slots (state computed now).": (
        "ライセンスを表示します（状態は現在時刻で判定）。"
    ),
    "Print the API's JSON.": "APIと同じJSONで出力します。",
    "Check every slot's status with the vendor now (safe while `serve` runs).": (
        "すべてのライセンスのステータスを今すぐオンラインで確認します"
        "（serveの実行中でも安全です）。"
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
        "cssec vendor license respond（またはポータル）で応答を作り、"
        "cssec server license importで取り込みます。"
    ),
    "Where to write REQ.json.": "REQ.jsonの書き出し先。",
    "Import the license service's response to this server's request: the slots are extended "
    "exactly as an online check would.": (
        "このサーバの要求へのライセンスサービスの応答を取り込みます。オンライン確認と同じように"
        "ライセンスが延長されます。"
    ),
    "The license service's RESP.json.": "ライセンスサービスの RESP.json。",
    "Put a new code from the response in effect even when it lowers the license (earlier "
    "expiry, fewer seats, another contract).": (
        "応答ファイルの新しいコードでライセンスが下がる場合（有効期限が早い、ライセンス数が少ない、"
        "別の契約）も、そのコードに置き換えます。"
    ),
    "Components (patterns, template, engine) and ActiveUpdate.": (
        "コンポーネント（パターンファイル、テンプレート、検索エンジン）とActiveUpdate。"
    ),
    "Show the current and previous version of each component and the last update.": (
        "各コンポーネントの現在と前のバージョン、最後のアップデートを表示します。"
    ),
    "Update the components from ActiveUpdate now (safe while `serve` runs).": (
        "ActiveUpdateから今すぐコンポーネントをアップデートします（serveの実行中でも安全です）。"
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
        "使えます。新しい証明書で提供するには cssec server serveを再起動してください。"
    ),
    "Names/addresses of the new certificate (repeatable; default: those of the current one).": (
        "新しい証明書の名前/アドレス（複数指定可。既定: 現在の証明書と同じ）。"
    ),
    "Use this certificate (PEM) instead.": "代わりにこの証明書（PEM）を使います。",
    "Web manager accounts.": "Webマネージャのアカウント。",
    "Set a Web manager password (asked twice, or read from --password-file); every session "
    "of the account ends.": (
        "Webマネージャのパスワードを設定します（2回入力するか --password-fileから読み込み）。"
        "そのアカウントのセッションはすべて終了します。"
    ),
    "The account.": "アカウント。",
    "File whose first line is the new password.": "1行目が新しいパスワードのファイル。",
    # cssec vendor
    "The vendor license service.": ("ライセンスサービス（メーカー用）。"),
    (
        "Serve the vendor API (and console); applies database migrations first. With "
        "--tls-cert/--tls-key it serves HTTPS (console cookies then Secure, responses with "
        "Strict-Transport-Security). Behind a TLS proxy such as nginx, set "
        "CSSEC_VENDOR_TRUSTED_PROXIES to the proxy's address so the rate limits see the "
        "clients'. With --workers N > 1, uvicorn's supervisor starts N processes sharing the "
        "port; each builds the app from CSSEC_VENDOR_* (--data is passed on as "
        "CSSEC_VENDOR_DATA_DIR). Share the rate-limit counters between them with "
        "CSSEC_VENDOR_RATE_LIMIT_STORAGE=redis://… (with the default memory storage each "
        "worker counts on its own)."
    ): (
        "ライセンスサービスのAPI（と窓口コンソール）を提供します。"
        "先にデータベースを移行します。--tls-cert/--tls-key"
        "を指定するとHTTPSで提供します（コンソールのCookieはSecure、"
        "応答にStrict-Transport-Securityを付けます）。nginxなどのTLSプロキシの後ろでは、"
        "レート制限がクライアントのアドレスを見られるよう CSSEC_VENDOR_TRUSTED_PROXIES"
        "にプロキシのアドレスを設定してください。--workers N（N > 1）では、"
        "uvicornが同じポートを共有するN個のプロセスを起動し、各プロセスは CSSEC_VENDOR_*"
        "からアプリを作ります（--dataは CSSEC_VENDOR_DATA_DIRとして渡します）。"
        "レート制限のカウンタは CSSEC_VENDOR_RATE_LIMIT_STORAGE=redis://… "
        "で共有します（既定のメモリでは各プロセスが別々に数えます）。"
    ),
    "Data directory (default: ~/.local/share/cssec/vendor or $XDG_DATA_HOME).": (
        "データディレクトリ（既定: ~/.local/share/cssec/vendor または $XDG_DATA_HOME）。"
    ),
    "Data directory (default: $CSSEC_VENDOR_DATA_DIR, else ~/.local/share/cssec/vendor or "
    "$XDG_DATA_HOME).": (
        "データディレクトリ（既定: $CSSEC_VENDOR_DATA_DIR、なければ ~/.local/share/cssec/vendor "
        "または $XDG_DATA_HOME）。"
    ),
    "Data directory (default: $CSSEC_VENDOR_DATA_DIR).": (
        "データディレクトリ（既定: $CSSEC_VENDOR_DATA_DIR）。"
    ),
    "Create the vendor's data directory: database, keys, version 1 of each component "
    "(`serve` does the same; the other commands never make a database where nobody chose "
    "one). Safe on a directory in use: it only migrates.": (
        "ライセンスサービスのデータディレクトリ（データベース、鍵、各コンポーネントのバージョン1）を"
        "作成します（serveも同じことをします。ほかのコマンドは、誰も選んでいない場所に"
        "データベースを作りません）。使用中のディレクトリに実行しても移行だけを行います。"
    ),
    "Address to listen on.": ("待ち受けるアドレス。"),
    "Port to listen on.": ("待ち受けるポート。"),
    "Worker processes (one per CPU core is typical).": (
        "ワーカープロセスの数（CPUコアごとに1つが目安）。"
    ),
    "Serve HTTPS with this certificate (PEM, chain included).": (
        "この証明書（PEM、中間証明書を含む）でHTTPSを提供します。"
    ),
    "Its private key (PEM).": ("その秘密鍵（PEM）。"),
    (
        "Back up the database, the keys and the ActiveUpdate files into one archive (safe "
        "while `serve` runs; PostgreSQL needs pg_dump on PATH)."
    ): (
        "データベース、鍵、ActiveUpdateのファイルを1つのアーカイブにバックアップします（serve"
        "の実行中でも安全です。PostgreSQLではPATHに pg_dumpが必要です）。"
    ),
    (
        "Restore a backup into a new or empty data directory (never over one in use); a "
        "PostgreSQL dump goes into the empty database CSSEC_VENDOR_DATABASE_URL names."
    ): (
        "バックアップを新しいまたは空のデータディレクトリに復元します（使用中のものには復元しま"
        "せん）。PostgreSQLのダンプは CSSEC_VENDOR_DATABASE_URL"
        "が指す空のデータベースに復元します。"
    ),
    "An archive written by `cssec vendor backup`.": ("cssec vendor backupで書き出したアーカイブ。"),
    "Contracts and their registration keys.": ("契約とレジストレーションキー。"),
    "Issue a contract. Prints its codes, then (last line) its registration key.": (
        "契約を発行します。アクティベーションコードを表示し、"
        "最後の行にレジストレーションキーを表示します。"
    ),
    "Customer (company) name: a label, shared by no access.": (
        "お客様（会社）名。表示用の名前で、同じ名前の契約どうしでアクセスは共有されません。"
    ),
    "Licensed seats (clients).": ("ライセンス数（クライアント数）。"),
    "Term length in months.": ("契約期間（月数）。"),
    "First day, YYYY-MM-DD (default: today, UTC).": ("開始日 YYYY-MM-DD（既定: 今日、UTC）。"),
    "Include Damage Cleanup Services.": ("ウイルス感染復旧サービスを含めます。"),
    "This contract's own contact: its notices, and its portal sign-in.": (
        "この契約だけの連絡先。お知らせの送り先で、この契約のポータルにサインインできます。"
    ),
    "Language of those mails (default ja).": ("そのメールの言語（既定: ja）。"),
    "Move the contract's end later; online servers see it at their next status check.": (
        "契約の終了日を延ばします。オンラインのサーバは次のステータス確認で反映します。"
    ),
    "Registration key or activation code.": (
        "レジストレーションキーまたはアクティベーションコード。"
    ),
    "Months to add to the current end.": ("現在の終了日に加える月数。"),
    "Activation codes: reissue, revoke, inspect.": (
        "アクティベーションコード: 再発行、失効、確認。"
    ),
    "Issue a new activation code carrying the contract's current end (offline renewal).": (
        "契約の現在の終了日を持つ新しいアクティベーションコードを発行します（オフラインでの更新）。"
    ),
    "CS or DCS (default: the given code's product, else CS).": (
        "CS または DCS（既定: 指定したコードの製品、なければ CS）。"
    ),
    "Issue even though the product's newest code is revoked (undoes the revocation).": (
        "製品の最新のコードが失効していても発行します（失効を取り消します）。"
    ),
    "Revoke an activation code and every older code of its contract's product that it "
    "superseded (listed first, oldest first): status checks, ActiveUpdate and registration "
    "refuse them from now on. Newer codes stay valid. Last line: revoked: CODE (in Japanese "
    "失効させました: CODE).": (
        "アクティベーションコードと、同じ契約の同じ製品でそれより前に発行された (このコードに"
        "置き換えられた) コードをすべて失効させます (対象を古い順に先に表示します)。以後、"
        "ステータス確認、ActiveUpdate、登録はこれらのコードを拒否します。新しいコードは有効な"
        "ままです。最後の行: 失効させました: CODE（英語では revoked: CODE）。"
    ),
    "A new activation code to have confirmed by file (in place of its product's current "
    "code); importing the response puts it in effect (with --confirm when it lowers the "
    "license).": (
        "ファイルで確認を受ける新しいアクティベーションコード（その製品の現在のコードの代わり）。"
        "応答ファイルを取り込むと有効になります（ライセンスが下がる場合は--confirmを付けて"
        "取り込みます）。"
    ),
    "The activation code to revoke.": ("失効させるアクティベーションコード。"),
    "Why (kept in the audit log).": ("理由（監査ログに残ります）。"),
    (
        "What the support desk sees: kind, product, expiry, verdict and why. Exit 0 for a "
        "valid code or key; 1 for an invalid, expired or revoked one (the same lines are "
        "printed either way); 2 for a usage error or a fault."
    ): (
        "窓口が見る内容: 種類、製品、有効期限、判定とその理由。"
        "終了コードは有効なコードやキーで0、無効・期限切れ・失効で1（表示はどちらも同じ）、"
        "使い方の誤りや障害で2です。"
    ),
    "An activation code or a registration key.": (
        "アクティベーションコードまたはレジストレーションキー。"
    ),
    "The vendor's signing and HMAC keys.": ("ライセンスサービスの署名鍵とHMAC鍵。"),
    (
        "Print the public key set (JWKS JSON) that servers pin, current key first, and each "
        "key's fingerprint on stderr. Hand one of them to each server's administrator by a "
        "channel other than the network the server uses (`cssec server install "
        "--vendor-keys-file F` or `--vendor-key-fingerprint sha256:…`)."
    ): (
        "サーバが照合する公開鍵セット（JWKS JSON、現在の鍵が先頭）を表示し、"
        "各鍵のフィンガープリントを標準エラーに表示します。"
        "サーバが使うネットワークとは別の経路で、各サーバの管理者に渡してください（cssec "
        "server install --vendor-keys-file F または --vendor-key-fingerprint sha256:…）。"
    ),
    "Print only the current key's sha256: fingerprint.": (
        "現在の鍵の sha256: フィンガープリントだけを表示します。"
    ),
    "Add new HMAC and signing keys and make them current; the old ones stay trusted.": (
        "新しいHMAC鍵と署名鍵を追加して現在の鍵にします。古い鍵も引き続き信頼されます。"
    ),
    (
        "Issue a distributor's batch in one transaction (all or nothing) and write its CSV: "
        "registration_key, activation code(s), expires_on, contract_id."
    ): (
        "販売店向けの一括発行を1つのトランザクションで行い（すべて成功かすべて取り消し）、"
        "CSV（registration_key、アクティベーションコード、expires_on、contract_id）"
        "を書き出します。"
    ),
    "Contracts to issue (one key each).": ("発行する契約の数（それぞれキー1つ）。"),
    "Licensed seats of each contract.": ("各契約のライセンス数。"),
    "CSV to write; must not exist (mode 0600).": (
        "書き出すCSV。既存のファイルは指定できません（モード 0600）。"
    ),
    "Distributor or batch name (default: 'bulk <UTC time>').": (
        "販売店名または一括発行の名前（既定: 'bulk <UTC時刻>'）。"
    ),
    "The offline TUF root keys.": ("オフラインで保管するTUFのルート鍵。"),
    (
        "Make the offline Ed25519 root keys (root-N.pem, root-keys.json) in --out; keep that "
        "directory off the serving host."
    ): (
        "オフラインのEd25519ルート鍵（root-N.pem、root-keys.json）を --outに作ります。"
        "そのディレクトリはサービスを提供するホストの外に保管してください。"
    ),
    "Directory for the offline root keys.": ("オフラインのルート鍵のディレクトリ。"),
    "Signatures a root needs.": ("ルートに必要な署名の数。"),
    "How many root keys to make.": ("作るルート鍵の数。"),
    "Support-desk staff accounts.": ("窓口担当者のアカウント。"),
    "Create a support-desk account (argon2-hashed password).": (
        "窓口担当者のアカウントを作ります（パスワードはargon2でハッシュ化）。"
    ),
    "Login name.": ("ログイン名。"),
    "File whose first line is the password (default: prompt).": (
        "1行目がパスワードのファイル（既定: 入力を求めます）。"
    ),
    "staff or admin.": ("staff または admin。"),
    (
        "Turn a staff member's second factor off (a lost authenticator): secret and recovery "
        "codes removed, their sessions ended; they enrol again at the next login when the "
        "console requires it (CSSEC_VENDOR_CONSOLE_REQUIRE_TOTP)."
    ): (
        "担当者の2要素認証を解除します（認証アプリを紛失したとき）。"
        "シークレットとリカバリーコードを削除し、セッションを終了します。"
        "コンソールが必須としている場合（CSSEC_VENDOR_CONSOLE_REQUIRE_TOTP）は、"
        "次のログインで登録し直します。"
    ),
    "ActiveUpdate components: publish, list.": ("ActiveUpdateのコンポーネント: 公開と一覧。"),
    (
        "Publish FILE as the next version of component NAME (checked first: YARA compiles, "
        "the JSON parses); servers get it at their next hourly ActiveUpdate poll, or ring by "
        "ring with --rollout (see `component rollout`)."
    ): (
        "FILEをコンポーネント NAMEの次のバージョンとして公開します（先にYARAのコンパイルとJSO"
        "Nの解析を確認します）。サーバは1時間ごとのActiveUpdateの確認で取得します。"
        "--rolloutを付けるとリングごとに段階的に配信します（component rolloutを参照）。"
    ),
    "Staged rollout rings in percent, e.g. 1,10,50,100.": (
        "段階的配信のリング（パーセント）。例: 1,10,50,100"
    ),
    "Hours between rings.": "次のリングに進むまでの時間（時間単位）。",
    "Staged rollouts: show, halt, resume, pull (back to the last good).": (
        "段階的配信: 表示、停止、再開、取り下げ（最後の正常な内容に戻す）。"
    ),
    "Rollouts, newest first: rings, where each stands, health against the previous version.": (
        "段階的配信を新しい順に表示します: リング、現在の位置、前のバージョンと比べたヘルス。"
    ),
    "Only this version.": "このバージョンだけ。",
    "JSON, one object per rollout.": "JSON（配信ごとに1オブジェクト）。",
    "Stop the rollout where it is: no further server takes the version.": (
        "配信をその位置で停止します。これ以上のサーバはこのバージョンを取得しません。"
    ),
    "Let a halted rollout go on along its schedule.": "停止した配信を予定どおり再開します。",
    "Every server back to the previous content, as a new version for all.": (
        "すべてのサーバを前の内容に戻します（全サーバ向けの新しいバージョンとして公開）。"
    ),
    (
        "When this server takes a version the vendor rolls out in stages: early (among the "
        "first 10 %), standard, or late (only in the rings above 50 %)."
    ): (
        "ベンダーの段階的配信でこのサーバがいつ新しいバージョンを受け取るか: early（最初の10 %"
        "の中）、standard、late（50 %を超えるリングだけ）。"
    ),
    "early, standard or late; without: show the current choice.": (
        "early、standard、lateのいずれか。省略すると現在の設定を表示します。"
    ),
    "virus_pattern, damage_cleanup_template, spyware_pattern or scan_engine.": (
        "virus_pattern、damage_cleanup_template、spyware_pattern、scan_engineのいずれか。"
    ),
    "The component file (YARA rules or JSON).": (
        "コンポーネントのファイル（YARAルールまたはJSON）。"
    ),
    "Every published version, newest first; the current one of each component is marked *.": (
        "公開したすべてのバージョンを新しい順に表示します。"
        "各コンポーネントの現在のバージョンには * が付きます。"
    ),
    "Only this component.": ("このコンポーネントだけ。"),
    (
        "Write a signed component bundle (TUF metadata + files) for an air-gapped site, if "
        "its contract allows ActiveUpdate as an online download would; the site imports it "
        "with `cssec server components import`."
    ): (
        "インターネットに接続しないサイト用に、署名付きのコンポーネントのバンドル（TUFのメタデ"
        "ータとファイル）を書き出します（オンラインのダウンロードと同じく契約がActiveUpdateを許"
        "す場合）。サイトでは cssec server components importで取り込みます。"
    ),
    "The site's activation code.": ("サイトのアクティベーションコード。"),
    "The bundle file to write.": ("書き出すバンドルのファイル。"),
    "ActiveUpdate as a TUF repository.": ("TUFリポジトリとしてのActiveUpdate。"),
    "The TUF root.json.": ("TUFの root.json。"),
    (
        "Sign the next root.json with a threshold of the root keys (and, for a rotation, of "
        "the current root's) and install it; the service then signs targets, snapshot and "
        "timestamp with its online keys."
    ): (
        "次の root.jsonにしきい値分のルート鍵で署名し（鍵の交換では現在のルートの鍵でも署名し"
        "）、インストールします。以後、サービスはオンラインの鍵で targets、snapshot、timestamp"
        "に署名します。"
    ),
    "The offline root key directory.": ("オフラインのルート鍵のディレクトリ。"),
    "The current root's key directory (a root rotation).": (
        "現在のルートの鍵のディレクトリ（ルート鍵の交換）。"
    ),
    "Data directory.": ("データディレクトリ。"),
    "Outgoing webhooks (Standard Webhooks): add, list, remove.": (
        "送信するWebhook（Standard Webhooks）: 追加、一覧、削除。"
    ),
    "Post the chosen events to URL, signed with the secret (never printed again).": (
        "選んだイベントをシークレットで署名してURLに送信します（シークレットは二度と表示しませ"
        "ん）。"
    ),
    "https:// URL of a public host (others: CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS).": (
        "公開ホストの https:// のURL"
        "（それ以外はCSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETSに書いたものだけ）。"
    ),
    (
        "Comma-separated: contract.created, contract.renewed, code.reissued, code.revoked, "
        "license.expiring, license.expired, seats.exceeded, component.rollout_halted."
    ): (
        "カンマ区切り: contract.created、contract.renewed、code.reissued、code.revoked、"
        "license.expiring、license.expired、seats.exceeded、component.rollout_halted。"
    ),
    "File holding the whsec_… secret (first line).": (
        "whsec_… のシークレットを1行目に書いたファイル。"
    ),
    "A note for the list.": ("一覧に表示するメモ。"),
    "The endpoints: id, URL, events, the secret's fingerprint (never the secret).": (
        "送信先: ID、URL、イベント、シークレットのフィンガープリント（シークレット自体は表示し"
        "ません）。"
    ),
    "Stop posting to an endpoint; its undelivered messages are cancelled.": (
        "送信先への送信をやめます。未配信のメッセージは取り消します。"
    ),
    "The endpoint's id (see `webhook list`).": ("送信先のID（webhook listで確認）。"),
    "Contract notices and the outbox.": ("契約のお知らせと送信待ちのメッセージ。"),
    (
        "What `serve` does in the background, once: record and queue the notices due today, "
        "deliver every due outbox message (mails, webhooks), then exit. For cron; safe "
        "beside running `serve` processes (nothing is sent twice)."
    ): (
        "serveがバックグラウンドで行う処理を1回だけ実行して終了します: "
        "今日のお知らせを記録して送信待ちに入れ、期限の来たメッセージ（メール、Webhook）"
        "をすべて配信します。cron用で、実行中の serve"
        "と同時に動かしても安全です（二重には送りません）。"
    ),
    "Air-gapped renewal by file.": ("インターネットに接続しないサーバのファイルによる更新。"),
    (
        "Answer a server's renewal request (`cssec server license request`) with the signed "
        "statements of its codes, for `cssec server license import` on the air-gapped server."
    ): (
        "サーバの更新要求（cssec server license request）に、"
        "そのコードの署名付きステートメントで応答します。インターネットに接続しないサーバで "
        "cssec server license importで取り込みます。"
    ),
    "The server's REQ.json.": ("サーバの REQ.json。"),
    "Where to write RESP.json.": ("RESP.jsonの書き出し先。"),
    # cssec vendor token (admin API tokens)
    "Admin API tokens: create (shown once), list, revoke.": (
        "管理APIのトークン: 作成（一度だけ表示）、一覧、取り消し。"
    ),
    (
        "Comma-separated: contracts:read, contracts:write, codes:read, codes:write, "
        "codes:revoke, bulk:write, usage:read, webhooks:read, webhooks:write, audit:read."
    ): (
        "カンマ区切り: contracts:read、contracts:write、codes:read、codes:write、"
        "codes:revoke、bulk:write、usage:read、webhooks:read、webhooks:write、audit:read。"
    ),
    "Days until it stops working (default: never).": "有効な日数（既定: 無期限）。",
    "Every token: name, status, scopes, expiry, last use (never the token).": (
        "すべてのトークン: 名前、状態、スコープ、有効期限、最終使用日時"
        "（トークン自体は表示しません）。"
    ),
    "Its name; the audit log shows token:NAME.": "名前。監査ログには token:名前 と記録されます。",
    "Make a token; the last line is the token itself, shown this once.": (
        "トークンを作成します。最後の行がトークンで、表示はこの一度だけです。"
    ),
    "Stop a token at once (its calls get 401 api_token_revoked).": (
        "トークンをただちに無効にします（以後の呼び出しは 401 api_token_revoked）。"
    ),
    "The token's name (see `token list`).": "トークンの名前（token listで確認）。",
}

# Typer's and Click's own words in `--help` (typer.rich_utils constants and the usage
# prefix), by the name `cssec.clikit` sets them under.
TYPER_JA: dict[str, str] = {
    "USAGE_PREFIX": "使い方: ",
    "ARGUMENTS_PANEL_TITLE": "引数",
    "OPTIONS_PANEL_TITLE": "オプション",
    "COMMANDS_PANEL_TITLE": "コマンド",
    "REQUIRED_LONG_STRING": "[必須]",
    "DEFAULT_STRING": "[既定: {}]",
    "ENVVAR_STRING": "[環境変数: {}]",
    "DEPRECATED_STRING": "(非推奨) ",
    "ERRORS_PANEL_TITLE": "エラー",
}
