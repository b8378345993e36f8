"""Errors only the client raises (the server's errors arrive as `core.errors` classes).

They join the `CssecError` hierarchy so the CLI reports every failure the same way: a
stable code and a message in the user's language that says what to do next.
"""

from __future__ import annotations

from cssec.core.errors import CssecError


class ServerUnreachable(CssecError):
    code = "server_unreachable"
    status = 502
    message_ja = (
        "C/S Sec. サーバ ({server_url}) に接続できませんでした ({cause})。"
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
        "{dir} には C/S Sec. クライアントがインストールされていません。"
        "cssec client install --server URL --dir {dir} でインストールしてください。"
    )
    message_en = (
        "No C/S Sec. client is installed in {dir}. "
        "Install it with: cssec client install --server URL --dir {dir}"
    )


class StateCorrupt(CssecError):
    code = "client_state_corrupt"
    message_ja = (
        "クライアントのファイル {path} を読み込めません ({reason})。"
        "cssec client install でクライアントをインストールし直してください。"
    )
    message_en = (
        "Cannot read the client file {path} ({reason}). "
        "Reinstall the client with cssec client install."
    )


class ManifestRejected(CssecError):
    code = "manifest_rejected"
    message_ja = (
        "アップデート情報 (マニフェスト) の検証に失敗したため、アップデートしませんでした "
        "({reason})。現在のコンポーネントのまま動作します。サーバ管理者にご連絡ください。"
    )
    message_en = (
        "The update manifest failed verification, so nothing was updated ({reason}). "
        "The current components stay in use. Contact the server administrator."
    )


class ComponentRejected(CssecError):
    code = "component_rejected"
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
        "cssec client update --dir {dir} でコンポーネントを取得してください。"
    )
    message_en = (
        "There is no usable pattern file to scan with ({reason}). "
        "Fetch the components with: cssec client update --dir {dir}"
    )
