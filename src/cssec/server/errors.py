"""Errors only the C/S Sec. server raises (the shared ones live in cssec.core.errors)."""

from __future__ import annotations

from cssec.core.errors import CssecError


class UntrustedStatement(CssecError):
    """The vendor answered, but its statement failed verification or names something else."""

    code = "untrusted_statement"
    status = 502
    message_ja = (
        "ライセンスサーバの応答を検証できませんでした ({reason})。"
        "現在のライセンスは変更されていません。ネットワーク経路 (プロキシ) を確認し、"
        "解決しない場合は法人お問合せ窓口にお問い合わせください。"
    )
    message_en = (
        "The license service's answer could not be verified ({reason}). The current license "
        "is unchanged. Check the network path (proxy); if it persists, contact corporate support."
    )


class AlreadyInstalled(CssecError):
    code = "already_installed"
    status = 409
    message_ja = (
        "{path} にはすでにインストールされています。別のデータディレクトリを指定するか、"
        "既存のサーバをそのまま使用してください。"
    )
    message_en = (
        "{path} already holds an installation. Choose another data directory, or keep "
        "using the existing server."
    )


class DataDirNotEmpty(CssecError):
    code = "data_dir_not_empty"
    status = 409
    message_ja = "{path} は空ではありません。空のディレクトリか、存在しないパスを指定してください。"
    message_en = "{path} is not empty. Give an empty directory or a path that does not exist yet."


class NotInstalled(CssecError):
    code = "not_installed"
    status = 500
    message_ja = (
        "{path} にサーバがインストールされていません。"
        "先に cssec server install を実行してください。"
    )
    message_en = "No server is installed in {path}. Run cssec server install first."


class LoginFailed(CssecError):
    code = "login_failed"
    status = 401
    message_ja = "ユーザ名またはパスワードが正しくありません。"
    message_en = "The user name or password is incorrect."


class AccountLocked(CssecError):
    code = "account_locked"
    status = 429
    message_ja = (
        "ログインの失敗が続いたため、アカウントを一時的にロックしています。"
        "{retry_after} 秒後にもう一度お試しください。"
    )
    message_en = (
        "Too many failed logins: the account is locked for now. Try again in {retry_after} seconds."
    )


_REISSUE_JA = (
    "Web マネージャの [クライアント] → [Web インストール] または [リモートインストール] で"
    "新しいインストールトークンを発行し、表示されたコマンドで再度インストールしてください。"
)
_REISSUE_EN = (
    "Issue a new install token in the Web manager (Clients → Web install or Remote install) "
    "and install again with the command it shows."
)


class InstallTokenInvalid(CssecError):
    """Unknown, malformed, already used, or made for the other route: never says which."""

    code = "invalid_install_token"
    status = 403
    message_ja = "インストールトークンが無効か、すでに使用されています。" + _REISSUE_JA
    message_en = "The install token is not valid or has already been used. " + _REISSUE_EN


class InstallTokenExpired(CssecError):
    code = "install_token_expired"
    status = 403
    message_ja = "インストールトークンの有効期限 ({expires_at}) が過ぎています。" + _REISSUE_JA
    message_en = "The install token expired at {expires_at}. " + _REISSUE_EN


class InstallTokenWrongHost(CssecError):
    code = "install_token_wrong_host"
    status = 403
    message_ja = (
        "このリモートインストール用トークンはホスト {expected} 用です (このコンピュータは "
        "{actual})。{expected} でコマンドを実行するか、"
        "このコンピュータ用のトークンを発行してください。"
    )
    message_en = (
        "This remote install token is for host {expected} (this computer is {actual}). Run the "
        "command on {expected}, or issue a token for this computer."
    )


class AutoPccNotAllowed(CssecError):
    code = "autopcc_not_allowed"
    status = 403
    message_ja = (
        "トークンなしのインストール (AutoPcc) はサーバと同じネットワーク内からのみ受け付けます "
        "(接続元 {ip})。Web マネージャの [クライアント] → [Web インストール] でトークンを発行し、"
        "--token を付けてインストールしてください。"
    )
    message_en = (
        "Installs without a token (AutoPcc) are accepted from the server's own networks only "
        "(this request came from {ip}). Issue a token in the Web manager (Clients → Web "
        "install) and install with --token."
    )


class DataDiskFull(CssecError):
    """The database or a file in the data directory could not grow: its disk is full."""

    code = "data_disk_full"
    status = 507
    message_ja = (
        "データディレクトリ ({path}) のあるディスクがいっぱいのため、処理を保存できませんでした"
        " (保存できなかった変更は適用されていません)。空き容量を確保してから、"
        "もう一度実行してください。"
    )
    message_en = (
        "The disk holding the data directory ({path}) is full, so the command could not save "
        "its work (what was not saved did not take effect). Free some space, then run the "
        "command again."
    )


class DataDirUnusable(CssecError):
    """The database or a file in the data directory failed for another reason."""

    code = "data_dir_error"
    status = 500
    message_ja = (
        "データディレクトリ ({path}) のデータベースまたはファイルを読み書きできませんでした "
        "({detail})。ディスクの状態とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "The database or a file in the data directory ({path}) could not be used ({detail}). "
        "Check the disk and its permissions, then run the command again."
    )
