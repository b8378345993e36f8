"""`cssec vendor serve --tls-cert F --tls-key F`: the files are checked before serving (they
match, and the certificate is valid now), so a mistake is one line, not a uvicorn traceback."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cssec.core.certs import check_key_pair
from cssec.core.errors import CssecError


class VendorTlsInvalid(CssecError):
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


def serving_files(cert: Path | None, key: Path | None, *, now: datetime) -> tuple[str, str] | None:
    """(certificate, key) for uvicorn, checked; None when neither is given."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise VendorTlsInvalid(detail="give both --tls-cert and --tls-key")
    try:
        check_key_pair(cert.read_bytes(), key.read_bytes(), now=now)
    except OSError as exc:
        raise VendorTlsInvalid(detail=f"{exc.filename}: {exc.strerror}") from None
    except ValueError as exc:
        raise VendorTlsInvalid(detail=str(exc)) from None
    return str(cert), str(key)
