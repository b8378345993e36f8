"""Errors of the server's TLS certificate and of reaching the vendor over TLS."""

from __future__ import annotations

from cssec.core.errors import CssecError


class CertificateInvalid(CssecError):
    code = "tls_certificate_invalid"
    message_ja = (
        "TLS 証明書または秘密鍵を使用できません ({detail})。"
        "--tls-certと--tls-keyに、対応する有効期限内の PEM ファイル (パスフレーズなし)を"
        "指定してください。"
    )
    message_en = (
        "The TLS certificate or key cannot be used ({detail}). Give --tls-cert and --tls-key "
        "as a matching PEM pair (no passphrase) that has not expired."
    )


class CertificateMissing(CssecError):
    code = "tls_certificate_missing"
    message_ja = (
        "{path}に TLS 証明書がありません。cssec server cert renew --data {data}で作成するか、"
        "平文の HTTPで動かす場合は --insecure-httpを指定してください。"
    )
    message_en = (
        "There is no TLS certificate at {path}. Create one with 'cssec server cert renew "
        "--data {data}', or pass --insecure-http to serve plain HTTP."
    )


class InsecureVendorUrl(CssecError):
    code = "insecure_vendor_url"
    message_ja = (
        "ライセンスサーバのアドレス {url}は平文の HTTPです。"
        "https:// のアドレスを指定してください。"
        "平文の HTTPは、ループバック (127.0.0.0/8、::1、localhost)のライセンスサーバか、"
        "インストール時に --insecure-httpを指定した場合だけ使えます。"
    )
    message_en = (
        "The license service address {url} is plain HTTP. Give an https:// address. Plain "
        "HTTP is accepted only for a loopback license service (127.0.0.0/8, ::1, localhost) "
        "or with --insecure-http at install."
    )


class VendorCaInvalid(CssecError):
    code = "vendor_ca_invalid"
    message_ja = (
        "ライセンスサーバの CA ファイル {path}を使用できません ({detail})。"
        "PEM 形式の CA 証明書を指定してください。"
    )
    message_en = (
        "The license service CA file {path} cannot be used ({detail}). Give PEM CA certificates."
    )
