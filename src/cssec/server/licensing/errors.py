"""Errors of installing the server and trusting the vendor's statements."""

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
