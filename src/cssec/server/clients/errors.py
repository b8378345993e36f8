"""Errors of installing and finding clients (the three install routes)."""

from __future__ import annotations

from cssec.core.errors import CssecError

_REISSUE_JA = (
    "Web マネージャの [クライアント] → [Web インストール] または [リモートインストール]で"
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
    message_ja = "インストールトークンの有効期限 ({expires_at})が過ぎています。" + _REISSUE_JA
    message_en = "The install token expired at {expires_at}. " + _REISSUE_EN


class InstallTokenWrongHost(CssecError):
    code = "install_token_wrong_host"
    status = 403
    message_ja = (
        "このリモートインストール用トークンはホスト {expected} 用です (このコンピュータは "
        "{actual})。{expected}でコマンドを実行するか、"
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
        "トークンなしのインストール (AutoPcc)はサーバと同じネットワーク内からのみ受け付けます "
        "(接続元 {ip})。Web マネージャの [クライアント] → [Web インストール]でトークンを発行し、"
        "--tokenを付けてインストールしてください。"
    )
    message_en = (
        "Installs without a token (AutoPcc) are accepted from the server's own networks only "
        "(this request came from {ip}). Issue a token in the Web manager (Clients → Web "
        "install) and install with --token."
    )


class ClientNotFound(CssecError):
    code = "client_not_found"
    status = 404
    message_ja = (
        "クライアント {client}が見つかりません。アンインストールされた可能性があります。"
        "クライアント一覧を開き直してください。"
    )
    message_en = (
        "Client {client} was not found; it may have been uninstalled. Open the client list again."
    )
