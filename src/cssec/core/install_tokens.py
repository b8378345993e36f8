"""The install token an administrator copies from the Web manager: a one-time secret and,
when the server speaks HTTPS, the fingerprint of its certificate.

    <secret>.<64 hex>        secret: URL-safe base64 (never contains "."),
                             then the SHA-256 of the server's DER certificate

The client checks the certificate it is shown against the fingerprint before it sends the
secret, so a token copied from the real server cannot be used against an impostor. The
server stores only the SHA-256 of the secret, and ignores the fingerprint part.
"""

from __future__ import annotations

from cssec.core.signing import FINGERPRINT_PREFIX, parse_fingerprint

SEPARATOR = "."


def join_install_token(secret: str, fingerprint: str | None) -> str:
    if fingerprint is None:
        return secret
    return secret + SEPARATOR + parse_fingerprint(fingerprint).removeprefix(FINGERPRINT_PREFIX)


def split_install_token(token: str) -> tuple[str, str | None]:
    """(secret, `sha256:<hex>` or None). A suffix that is not a fingerprint stays part of
    the secret (and then fails as an unknown token)."""
    secret, sep, suffix = token.strip().rpartition(SEPARATOR)
    if not sep:
        return token.strip(), None
    try:
        return secret, parse_fingerprint(FINGERPRINT_PREFIX + suffix)
    except ValueError:
        return token.strip(), None
