"""Errors of installing the server and trusting the vendor's statements."""

from __future__ import annotations

from typing import Any

from cssec.core.errors import CssecError


class UntrustedStatement(CssecError):
    """The vendor answered, but its statement failed verification or names something else."""

    code = "untrusted_statement"
    status = 502
    message_ja = (
        "ライセンスサーバの応答を検証できませんでした ({reason})。"
        "現在のライセンスは変更されていません。ネットワーク経路 (プロキシ)を確認し、"
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
        "{path}にはすでにインストールされています。別のデータディレクトリを指定するか、"
        "既存のサーバをそのまま使用してください。"
    )
    message_en = (
        "{path} already holds an installation. Choose another data directory, or keep "
        "using the existing server."
    )


class DataDirNotEmpty(CssecError):
    code = "data_dir_not_empty"
    status = 409
    message_ja = "{path}は空ではありません。空のディレクトリか、存在しないパスを指定してください。"
    message_en = "{path} is not empty. Give an empty directory or a path that does not exist yet."


class NotInstalled(CssecError):
    code = "not_installed"
    status = 500
    message_ja = (
        "{path}にサーバがインストールされていません。インストール済みのデータディレクトリを "
        "--data DIR または環境変数 CSSEC_SERVER_DATA_DIRで指定するか、先に「cssec server "
        "install」を実行してください。"
    )
    message_en = (
        "No server is installed in {path}. Name the installed data directory with --data DIR "
        "or CSSEC_SERVER_DATA_DIR, or run `cssec server install` first."
    )


class VendorKeyRequired(CssecError):
    """No trust anchor for the vendor's keys: the server never trusts the first key it meets."""

    code = "vendor_key_required"
    status = 400
    message_ja = (
        "ライセンスサーバの公開鍵を確認する手段がありません。ライセンスサーバの運営者から"
        "別経路で受け取った鍵の指紋 (--vendor-key-fingerprint sha256:…) または鍵ファイル "
        "(--vendor-keys-file)を指定してください。"
    )
    message_en = (
        "There is no way to check the license service's public key. Give the key's fingerprint "
        "(--vendor-key-fingerprint sha256:…) or key file (--vendor-keys-file), received from "
        "the license service's operator by another channel."
    )


class UntrustedVendorKey(CssecError):
    """The vendor offered keys, none of which is (or is vouched for by) a trusted key."""

    code = "untrusted_vendor_key"
    status = 502
    message_ja = (
        "ライセンスサーバの公開鍵が、信頼済みの鍵 ({expected})と一致しません。何も変更されて"
        "いません。接続先の URLと、鍵の指紋をライセンスサーバの運営者から正しく受け取ったかを"
        "確認してください (通信経路での改ざんの可能性があります)。"
    )
    message_en = (
        "The license service's public keys do not match the trusted key ({expected}). Nothing "
        "was changed. Check the vendor URL and that the fingerprint came from the license "
        "service's operator (the connection may have been tampered with)."
    )


class VendorConfirmationRequired(CssecError):
    """A new code for a product whose slot holds the vendor's signed revocation or
    rejection, entered while the vendor could not confirm it: refused, nothing changed.
    Without this, a self-made code typed in while the vendor is unreachable would undo a
    revocation."""

    code = "vendor_confirmation_required"
    status = 409
    message_ja = (
        "{product_ja}のアクティベーションコードはライセンスサーバで{held_ja}ため、新しいコードは"
        "ライセンスサーバで確認できたときにだけ有効になります。今回は確認できませんでした"
        "（{cause_ja}）。何も変更していません。ライセンスサーバに接続できることを確認して、"
        "もう一度アクティベートしてください。インターネットに接続できない環境では、"
        "「cssec server license request --code 新しいコード --out REQ.json」で要求ファイルを作り、"
        "法人お問合せ窓口から受け取った応答ファイルを「cssec server license import」で"
        "取り込んでください。新しいコードは法人お問合せ窓口から入手できます。"
    )
    message_en = (
        "The license server has {held_en} the {product_en} activation code, so a new code takes "
        "effect only once the license server confirms it. It could not be confirmed this time "
        "({cause_en}). Nothing was changed. Make sure the server can reach the license "
        "server and activate again. Without Internet access, write a request with "
        "`cssec server license request --code NEW_CODE --out REQ.json` and import corporate "
        "support's response with `cssec server license import`. Corporate support issues new "
        "codes."
    )


def plain_fields(error: CssecError) -> dict[str, Any]:
    """The error's explaining fields that belong in a log row (no nested objects)."""
    return {k: v for k, v in error.fields.items() if isinstance(v, str | int | None)}
