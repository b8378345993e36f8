"""TLS certificates of the C/S Sec. server: fingerprints, self-signed certificates, and the
renewal statement by which clients follow a new certificate without trusting the network.

A client pins its server's certificate by fingerprint (`sha256:<64 hex>`, the SHA-256 of
the DER certificate, what `cssec server cert show` prints last). When the administrator
renews the certificate, the server signs a *renewal*
`{"renewal": {old_fingerprint, new_fingerprint, old_cert, new_cert, issued_at}, "alg",
"signature"}` with the OLD certificate's private key. A client whose pin no longer matches
re-pins only when a chain of renewals leads from its pinned fingerprint to the certificate
it is being shown, each link signed by the key of the certificate before it; the old
certificate travels inside the renewal, so a client that knows only the fingerprint (an
install token) can check the link too. `alg` is checked against an allow-list first.

Pure: the standard library and `cryptography`; the caller passes the time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cssec.core.signing import FINGERPRINT_PREFIX, canonical_json, parse_fingerprint

DEFAULT_VALIDITY_DAYS = 3650
"""Self-signed and pinned by fingerprint: a short life buys nothing but lockouts, and
`cssec server cert renew` replaces it whenever the administrator wants."""
ALG_ES256 = "ES256"
ALG_RS256 = "RS256"
ALG_EDDSA = "EdDSA"
RENEWAL_ALGS = frozenset({ALG_ES256, ALG_RS256, ALG_EDDSA})
MAX_RENEWAL_CHAIN = 32

__all__ = [
    "CertificateSummary",
    "certificate_fingerprint",
    "check_key_pair",
    "der_to_pem",
    "follow_renewals",
    "make_self_signed",
    "parse_fingerprint",
    "pem_to_der",
    "sign_renewal",
    "spki_sha256_base64",
    "summarize",
]


def certificate_fingerprint(der: bytes) -> str:
    """`sha256:<64 hex>` of the DER certificate (what browsers show as the SHA-256 fingerprint)."""
    return FINGERPRINT_PREFIX + hashlib.sha256(der).hexdigest()


def pem_to_der(pem: bytes | str) -> bytes:
    """The DER of the first certificate of a PEM text; ValueError when there is none."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)


def der_to_pem(der: bytes) -> str:
    return (
        x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode("ascii")
    )


def spki_sha256_base64(der: bytes) -> str:
    """Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's
    `--ignore-certificate-errors-spki-list`, HPKP's pin-sha256)."""
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


_SERVER_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def make_self_signed(
    names: Sequence[str], *, now: datetime, days: int = DEFAULT_VALIDITY_DAYS
) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key and a self-signed certificate for `names` (host names and IP
    addresses, the first one also the subject's CN): (key PEM, certificate PEM)."""
    if not names:
        raise ValueError("a certificate needs at least one host name or address")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "C/S Sec. server"),
        ]
    )
    unique = list(dict.fromkeys(names))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in unique]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SERVER_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CertificateSummary:
    subject: str
    issuer: str
    names: list[str]
    not_before: datetime
    not_after: datetime
    fingerprint: str
    spki_sha256: str


def summarize(cert_pem: bytes) -> CertificateSummary:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(v) for v in san.get_values_for_type(x509.DNSName)]
        names += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        names=names,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=certificate_fingerprint(der),
        spki_sha256=spki_sha256_base64(der),
    )


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def load_private_key(key_pem: bytes) -> PrivateKey:
    """An unencrypted PEM private key of a kind renewals can be signed with; ValueError
    otherwise."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise ValueError("the key is encrypted; give it without a passphrase") from None
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise ValueError("the key must be ECDSA, RSA or Ed25519")
    return key


def check_key_pair(cert_pem: bytes, key_pem: bytes, *, now: datetime) -> CertificateSummary:
    """The certificate's summary when `key_pem` is its private key and it is valid at
    `now`; ValueError saying what is wrong otherwise."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise ValueError("not a PEM certificate") from None
    key = load_private_key(key_pem)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != cert.public_key(
    ).public_bytes(serialization.Encoding.DER, public):  # fmt: skip
        raise ValueError("the key does not belong to the certificate")
    if now >= cert.not_valid_after_utc:
        raise ValueError(f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if now < cert.not_valid_before_utc:
        raise ValueError(f"the certificate is not valid before {cert.not_valid_before_utc}")
    return summarize(cert_pem)


def _alg_for(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ALG_ES256
    if isinstance(key, rsa.RSAPrivateKey):
        return ALG_RS256
    return ALG_EDDSA


def sign_renewal(
    old_key_pem: bytes, old_cert_pem: bytes, new_cert_pem: bytes, *, at: datetime
) -> dict[str, Any]:
    """The statement by which the old certificate's key vouches for the new certificate."""
    key = load_private_key(old_key_pem)
    old_der, new_der = pem_to_der(old_cert_pem), pem_to_der(new_cert_pem)
    renewal = {
        "old_fingerprint": certificate_fingerprint(old_der),
        "new_fingerprint": certificate_fingerprint(new_der),
        "old_cert": der_to_pem(old_der),
        "new_cert": der_to_pem(new_der),
        "issued_at": at.isoformat(),
    }
    alg = _alg_for(key)
    signed = canonical_json({"renewal": renewal, "alg": alg})
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(signed)
    return {
        "renewal": renewal,
        "alg": alg,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def _verified_link(statement: object) -> tuple[str, str, bytes] | None:
    """(old fingerprint, new fingerprint, new DER) of a renewal whose signature checks out
    under the old certificate it carries; None for anything else (never raises). The
    checks run in order: shape, alg in the allow-list, fingerprints, signature."""
    if not isinstance(statement, dict):
        return None
    renewal, alg, signature_b64 = (
        statement.get("renewal"),
        statement.get("alg"),
        statement.get("signature"),
    )
    if (
        alg not in RENEWAL_ALGS
        or not isinstance(renewal, dict)
        or not isinstance(signature_b64, str)
    ):
        return None
    try:
        old_der = pem_to_der(str(renewal["old_cert"]))
        new_der = pem_to_der(str(renewal["new_cert"]))
        signature = base64.b64decode(signature_b64, validate=True)
        signed = canonical_json({"renewal": renewal, "alg": alg})
        old_fp = certificate_fingerprint(old_der)
        new_fp = certificate_fingerprint(new_der)
        if renewal.get("old_fingerprint") != old_fp or renewal.get("new_fingerprint") != new_fp:
            return None
        _verify(x509.load_der_x509_certificate(old_der).public_key(), alg, signature, signed)
    except (KeyError, ValueError, TypeError, binascii.Error, InvalidSignature):
        return None
    return old_fp, new_fp, new_der


def _verify(public: object, alg: str, signature: bytes, signed: bytes) -> None:
    """InvalidSignature unless `signature` is `alg`'s over `signed` by `public` (a key of
    another kind than `alg` names is refused too)."""
    if alg == ALG_ES256 and isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
    elif alg == ALG_RS256 and isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    elif alg == ALG_EDDSA and isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, signed)
    else:
        raise InvalidSignature


def follow_renewals(pinned: str, presented: str, renewals: Iterable[object]) -> bytes | None:
    """The DER of the certificate with fingerprint `presented` when a chain of verified
    renewals leads to it from the `pinned` fingerprint; None otherwise."""
    links: dict[str, tuple[str, bytes]] = {}
    for statement in list(renewals)[: MAX_RENEWAL_CHAIN * 4]:
        link = _verified_link(statement)
        if link is not None:
            links.setdefault(link[0], (link[1], link[2]))
    current = pinned
    for _ in range(MAX_RENEWAL_CHAIN):
        step = links.get(current)
        if step is None:
            return None
        current, der = step
        if current == presented:
            return der
    return None
