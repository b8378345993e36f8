"""Errors only the client raises (the server's errors arrive as `core.errors` classes).

They join the `CssecError` hierarchy so the CLI reports every failure the same way: a
stable code and a message in the user's language that says what to do next.
"""

from __future__ import annotations

from cssec.client.messages import local_time
from cssec.core.errors import (
    CssecError,
    LicenseExpired,
    LicenseRejected,
    LicenseRevoked,
    NotAuthenticated,
)


class ServerUnreachable(CssecError):
    code = "server_unreachable"
    status = 502
    message_ja = (
        "C/S Sec. サーバ ({server_url})に接続できませんでした ({cause})。"
        "ネットワークとサーバのアドレスを確認し、後でもう一度お試しください。"
    )
    message_en = (
        "Could not reach the C/S Sec. server at {server_url} ({cause}). "
        "Check the network and the server address, then try again later."
    )


class ServerError(CssecError):
    """The server answered, but not with the contract's response or error body."""

    code = "server_error"
    status = 502
    message_ja = (
        "C/S Sec. サーバから予期しない応答がありました ({detail})。"
        "サーバのバージョンと状態をサーバ管理者にご確認ください。"
    )
    message_en = (
        "The C/S Sec. server sent an unexpected response ({detail}). "
        "Ask the server administrator to check the server's version and state."
    )


class NotInstalled(CssecError):
    code = "client_not_installed"
    message_ja = (
        "{dir}には C/S Sec. クライアントがインストールされていません。"
        "cssec client install --server URL --dir {dir}でインストールしてください。"
    )
    message_en = (
        "No C/S Sec. client is installed in {dir}. "
        "Install it with: cssec client install --server URL --dir {dir}"
    )


class StateCorrupt(CssecError):
    code = "client_state_corrupt"
    message_ja = (
        "クライアントのファイル {path}を読み込めません ({reason})。"
        "cssec client installでクライアントをインストールし直してください。"
    )
    message_en = (
        "Cannot read the client file {path} ({reason}). "
        "Reinstall the client with cssec client install."
    )


class ManifestRejected(CssecError):
    code = "manifest_rejected"
    message_ja = (
        "アップデート情報 (マニフェスト)の検証に失敗したため、アップデートしませんでした "
        "({reason})。現在のコンポーネントのまま動作します。サーバ管理者にご連絡ください。"
    )
    message_en = (
        "The update manifest failed verification, so nothing was updated ({reason}). "
        "The current components stay in use. Contact the server administrator."
    )


class ComponentRejected(CssecError):
    code = "component_rejected"
    component_fields = ("component",)
    message_ja = (
        "{component}の検証に失敗したため、アップデートしませんでした ({reason})。"
        "現在のコンポーネントのまま動作します。後でもう一度お試しください。"
        "繰り返し失敗する場合はサーバ管理者にご連絡ください。"
    )
    message_en = (
        "The {component} failed verification, so nothing was updated ({reason}). "
        "The current components stay in use. Try again later; if it keeps failing, "
        "contact the server administrator."
    )


class NoComponents(CssecError):
    code = "no_components"
    message_ja = (
        "検索に使えるパターンファイルがありません ({reason})。"
        "cssec client update --dir {dir}でコンポーネントを取得してください。"
    )
    message_en = (
        "There is no usable pattern file to scan with ({reason}). "
        "Fetch the components with: cssec client update --dir {dir}"
    )


class QuarantineNotFound(CssecError):
    code = "quarantine_not_found"
    message_ja = (
        "隔離 ID {id}のファイルはありません。"
        "cssec client quarantine list --dir {dir}で隔離中のファイルを確認してください。"
    )
    message_en = (
        "There is no quarantined file with ID {id}. "
        "List the quarantined files with: cssec client quarantine list --dir {dir}"
    )


class QuarantineDamaged(CssecError):
    code = "quarantine_damaged"
    message_ja = (
        "隔離 ID {id}のファイルが隔離時と一致しないため復元しませんでした ({reason})。"
        "隔離フォルダ {dir}が変更されていないか確認してください。"
    )
    message_en = (
        "The file quarantined as {id} no longer matches what was quarantined, so it was not "
        "restored ({reason}). Check whether the quarantine folder {dir} was altered."
    )


class RestoreTargetExists(CssecError):
    code = "restore_target_exists"
    message_ja = (
        "{path}にはすでにファイルがあるため、隔離 ID {id}のファイルを復元しませんでした "
        "(上書きはしません)。既存のファイルを移動または削除してから、もう一度実行してください。"
    )
    message_en = (
        "{path} already exists, so the file quarantined as {id} was not restored (it is "
        "never overwritten). Move or delete the existing file, then try again."
    )


class RestoreFailed(CssecError):
    code = "restore_failed"
    message_ja = (
        "隔離 ID {id}のファイルを {path}に復元できませんでした ({reason})。"
        "フォルダが存在し書き込めることを確認してから、もう一度実行してください。"
    )
    message_en = (
        "Could not restore the file quarantined as {id} to {path} ({reason}). "
        "Make sure the folder exists and is writable, then try again."
    )


class NoWatchFolders(CssecError):
    code = "no_watch_folders"
    message_ja = (
        "リアルタイム検索で監視するフォルダがありません。"
        "--pathで監視するフォルダを指定するか、"
        "サーバ管理者に監視フォルダの設定を依頼してください。"
    )
    message_en = (
        "There is no folder for real-time scan to watch. "
        "Give one with --path, or ask the server administrator to set the client's folders."
    )


class ServerCertificateMismatch(CssecError):
    """The certificate shown is neither the pinned one nor a renewal the pinned one signed."""

    code = "server_certificate_mismatch"
    status = 502
    message_ja = (
        "C/S Sec. サーバ ({server_url})の証明書が登録済みのものと一致しないため、"
        "接続を中止しました (期待: {expected}、提示: {actual})。"
        "通信が傍受されている可能性があります。"
        "サーバ管理者に cssec server cert showで表示される指紋を確認してください。"
    )
    message_en = (
        "The certificate of the C/S Sec. server at {server_url} does not match the pinned one, "
        "so nothing was sent (expected {expected}, presented {actual}). Someone may be "
        "intercepting the connection. Ask the server administrator to compare the fingerprint "
        "'cssec server cert show' prints."
    )


class ServerFingerprintRequired(CssecError):
    code = "server_fingerprint_required"
    message_ja = (
        "HTTPSのサーバ ({server_url})には証明書の指紋が必要です。"
        "Web マネージャで発行したインストールトークンを使うか、"
        "--fingerprint sha256:… (サーバで cssec server cert showが最後の行に表示する値)を"
        "指定してください。"
    )
    message_en = (
        "An HTTPS server ({server_url}) needs its certificate fingerprint. Use an install token "
        "issued in the Web manager, or give --fingerprint sha256:… (the last line "
        "'cssec server cert show' prints on the server)."
    )


class InsecureServerUrl(CssecError):
    code = "insecure_server_url"
    message_ja = (
        "平文の HTTPでサーバ ({server_url})に接続することはできません ({reason})。"
        "https:// のアドレスを使ってください。"
        "平文の HTTPは同じコンピュータ (ループバック)のサーバか、"
        "インストール時に --insecure-httpを指定した場合だけ使えます。"
        "証明書を登録済みのクライアントは HTTPに切り替えられません。"
    )
    message_en = (
        "Will not talk plain HTTP to the server at {server_url} ({reason}). Use an https:// "
        "address. Plain HTTP is only for a server on this computer (loopback), or with "
        "--insecure-http at install; a client that pinned a certificate never falls back to HTTP."
    )


class InvalidFingerprint(CssecError):
    code = "invalid_fingerprint"
    message_ja = (
        "証明書の指紋が正しくありません ({detail})。"
        "sha256: に続く 64 桁の 16 進数で指定してください。"
    )
    message_en = (
        "The certificate fingerprint is not valid ({detail}). Give sha256: followed by "
        "64 hex digits."
    )


# Why the client's TUF check refused what its server handed over (cause → ja, en).
UPDATE_METADATA_CAUSES: dict[str, tuple[str, str]] = {
    "rolled_back_metadata": (
        "保持しているものより古い署名付き更新情報が返されました（ロールバック攻撃、"
        "または異なる版の組み合わせ）",
        "older signed update information than this client holds was returned (a rollback "
        "or mix-and-match attack)",
    ),
    "bad_metadata": (
        "署名付き更新情報を検証できませんでした（署名、組み合わせ、内容）",
        "the signed update information could not be verified (signatures, consistency or contents)",
    ),
    "hash_mismatch": (
        "ダウンロードしたファイルが署名付き更新情報のハッシュと一致しません",
        "a downloaded file does not match the signed SHA-256",
    ),
    "oversize": (
        "ダウンロードしたファイルが署名付き更新情報のサイズを超えています",
        "a downloaded file is larger than the signed length",
    ),
    "withheld": (
        "サーバが署名付き更新情報またはファイルを提供していません",
        "the server does not offer the signed update information or a file",
    ),
}


class UpdateMetadataRejected(CssecError):
    """The client's TUF check (python-tuf against the vendor's root) refused what came."""

    code = "update_metadata_rejected"
    message_ja = (
        "アップデート情報の検証に失敗したため、アップデートしませんでした: {cause_ja}"
        "（{detail}）。現在のコンポーネントのまま動作します。サーバ管理者にご連絡ください。"
    )
    message_en = (
        "The update information failed verification, so nothing was updated: {cause_en} "
        "({detail}). The current components stay in use. Contact the server administrator."
    )

    def __init__(self, cause: str, detail: str = "") -> None:
        ja, en = UPDATE_METADATA_CAUSES.get(cause, (cause, cause))
        super().__init__(cause=cause, cause_ja=ja, cause_en=en, detail=detail or "-")


class ComponentsStale(CssecError):
    """The signed timestamp the client holds expired and no fresh one came (a freeze, or a
    server cut off from ActiveUpdate)."""

    code = "components_stale"
    message_ja = (
        "コンポーネントは{since}から最新か確認できていません。サーバから新しい署名付き"
        "更新情報が届かないため、アップデートしませんでした（{detail}）。現在の"
        "コンポーネントのまま動作します。サーバ管理者にご連絡ください。"
    )
    message_en = (
        "Components stale since {since}: no fresh signed update information came from the "
        "server, so nothing was updated ({detail}). The current components stay in use. "
        "Contact the server administrator."
    )

    def message(self, lang: str = "ja") -> str:
        # `since` stays ISO UTC in the fields (and --json); a person reads local time.
        if self._override is None and "since" in self.fields:
            fields = {**self.fields, "since": local_time(self.fields["since"])}
            template = self.message_en if lang.lower().startswith("en") else self.message_ja
            try:
                return template.format(**fields)
            except (KeyError, IndexError):
                return template
        return super().message(lang)


class ServerHoldsNoVendorKeys(CssecError):
    """The server refused the install: installed offline with the vendor key's fingerprint
    only, it has no key to give a client yet (the server's message names its next step)."""

    code = "vendor_keys_not_pinned"
    status = 409
    message_ja = (
        "C/S Sec. サーバがライセンスサーバの公開鍵をまだ保持していないため、"
        "インストールできません。サーバ管理者にお問い合わせください。"
    )
    message_en = (
        "The C/S Sec. server holds none of the license service's keys yet, so this client "
        "cannot be installed. Ask the server's administrator."
    )


class LicenseExpiredAtServer(LicenseExpired):
    """The server's refusal after the grace period, told to the person at this PC: the
    server's own message names Web manager menus, which only the administrator has."""

    message_ja = (
        "{operation_ja}はできません。C/S Sec.のライセンスの有効期限が切れています。"
        "管理者にお問い合わせください。"
    )
    message_en = (
        "{operation_en} is refused: the C/S Sec. license has expired. Ask your administrator."
    )
    generic_message_ja = (
        "C/S Sec.のライセンスの有効期限が切れているため、実行できません。"
        "管理者にお問い合わせください。"
    )
    generic_message_en = "Refused: the C/S Sec. license has expired. Ask your administrator."


class LicenseRevokedAtServer(LicenseRevoked):
    """The server's refusal because the license server revoked its code, told to the person
    at this PC (the server's own message names Web manager menus)."""

    message_ja = (
        "{operation_ja}はできません。{product_ja}のアクティベーションコードはライセンスサーバで"
        "失効処理されています。管理者にお問い合わせください。"
    )
    message_en = (
        "{operation_en} is refused: the license server has revoked the {product_en} "
        "activation code. Ask your administrator."
    )
    generic_message_ja = (
        "アクティベーションコードがライセンスサーバで失効処理されているため、実行できません。"
        "管理者にお問い合わせください。"
    )
    generic_message_en = (
        "Refused: the license server has revoked the activation code. Ask your administrator."
    )


class LicenseRejectedAtServer(LicenseRejected):
    """The server's refusal because the license server refused its code (never issued), told
    to the person at this PC."""

    message_ja = (
        "{operation_ja}はできません。{product_ja}のアクティベーションコードはライセンスサーバで"
        "無効と回答されました。管理者にお問い合わせください。"
    )
    message_en = (
        "{operation_en} is refused: the license server refused the {product_en} activation "
        "code. Ask your administrator."
    )
    generic_message_ja = (
        "アクティベーションコードがライセンスサーバで無効と回答されたため、実行できません。"
        "管理者にお問い合わせください。"
    )
    generic_message_en = (
        "Refused: the license server refused the activation code. Ask your administrator."
    )


class ScanTargetMissing(CssecError):
    code = "scan_target_missing"
    status = 404
    message_ja = (
        "「{path}」というファイルやフォルダはありません。検索するファイルかフォルダのパスを"
        "確認してください。"
    )
    message_en = "There is no file or folder {path}. Check the path of what to scan."


class ClientNotRecognised(NotAuthenticated):
    """The server's generic 401 (the client's token is unknown: removed from the Web manager,
    or the server was reinstalled), told to the person at this PC."""

    message_ja = (
        "サーバがこのクライアントを認識できません。クライアントがサーバから削除されたか、"
        "再インストールが必要です。管理者にお問い合わせください。"
    )
    message_en = (
        "The server does not recognise this client: it was removed from the server or needs "
        "to be installed again. Ask your administrator."
    )
