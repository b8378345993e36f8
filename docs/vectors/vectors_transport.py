# ruff: noqa: E501, PLC0415  (tables of cases, one per call; imports kept near their one use)
"""Vectors of §7 (cert_renewals), §8 (install_tokens) and §10 (webhooks)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from vectors_common import (
    NOW,
    Cases,
    b64,
    seed,
)

from cssec.core.certs import certificate_fingerprint, sign_renewal
from cssec.core.install_tokens import join_install_token

# --- cert_renewals.json -----------------------------------------------------------------


def _certificate(
    name: str, public: Any, issuer_name: str, issuer_key: ed25519.Ed25519PrivateKey, serial: int
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2036, 1, 1, tzinfo=UTC))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .sign(issuer_key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip


def _deterministic_es256(renewal: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> None:
    """cssec's ES256 signatures are randomised; the vectors' is RFC 6979 (same bytes signed)."""
    from cssec.core.signing import canonical_json

    signed = canonical_json({"renewal": renewal["renewal"], "alg": renewal["alg"]})
    signature = key.sign(signed, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    renewal["signature"] = b64(signature)


def _prime(label: str, bits: int) -> int:
    """The first probable prime (Miller-Rabin, 32 fixed bases) at or after a seeded start."""
    start = int.from_bytes(hashlib.shake_256(label.encode()).digest(bits // 8), "big")
    n = start | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
             73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131]  # fmt: skip
    sieve = bytearray([1]) * 2000
    for f in range(2, 45):
        sieve[f * f :: f] = bytes(len(sieve[f * f :: f]))
    small = math.prod(b for b in range(3, 2000) if sieve[b])
    while True:
        if math.gcd(n, small) != 1:
            n += 2
            continue
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in bases:
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            if (n - 1) % 65537:
                return n
        n += 2


def _rsa_key(label: str) -> rsa.RSAPrivateKey:
    """A 1024-bit RSA key derived from a label (RSA keys cannot be made from a seed; small
    because a test key need only be quick to derive)."""
    p, q = _prime(f"{label}/p", 512), _prime(f"{label}/q", 512)
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key()


def cert_renewals_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("cert_renewals", keys)
    k0 = ed25519.Ed25519PrivateKey.from_private_bytes(seed("cert/0"))
    k1 = ec.derive_private_key(int.from_bytes(seed("cert/1"), "big") % (2**255), ec.SECP256R1())
    k2 = ed25519.Ed25519PrivateKey.from_private_bytes(seed("cert/2"))
    ca = ed25519.Ed25519PrivateKey.from_private_bytes(seed("cert/ca"))
    c0 = _certificate("server.example", k0.public_key(), "server.example", k0, 1000)
    c1 = _certificate("server.example", k1.public_key(), "vectors issuer", ca, 1001)
    c2 = _certificate("server.example", k2.public_key(), "server.example", k2, 1002)
    fp = [certificate_fingerprint(x509.load_pem_x509_certificate(p).public_bytes(
        serialization.Encoding.DER)) for p in (c0, c1, c2)]  # fmt: skip
    r01 = sign_renewal(_pem(k0), c0, c1, at=datetime(2026, 6, 1, tzinfo=UTC))
    r12 = sign_renewal(_pem(k1), c1, c2, at=datetime(2026, 11, 1, tzinfo=UTC))
    _deterministic_es256(r12, k1)
    if r01["alg"] != "EdDSA" or r12["alg"] != "ES256":
        raise AssertionError("unexpected renewal algorithms")
    ctx = {"pinned": fp[0], "presented": fp[2]}

    def reached(index: int) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["ok"] and v["fingerprint"] == fp[index]

    c.add("chain", "cert 0 → 1 (EdDSA) → 2 (ES256)", reached(2), renewals=[r01, r12],
          context=ctx)  # fmt: skip
    c.add("chain-any-order", "the same renewals newest first", reached(2),
          renewals=[r12, r01], context=ctx)  # fmt: skip
    c.add("one-link", "pinned cert 0, shown cert 1", reached(1), renewals=[r01],
          context={"pinned": fp[0], "presented": fp[1]})  # fmt: skip
    c.add("missing-link", "the 0 → 1 renewal missing", "no_chain", renewals=[r12],
          context=ctx)  # fmt: skip

    def broken(renewal: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        out = copy.deepcopy(renewal)
        change(out)
        return out

    c.add("tampered-issued-at", "issued_at changed after signing", "no_chain",
          renewals=[broken(r01, lambda r: r["renewal"].update(issued_at="2020-01-01")), r12],
          context=ctx)  # fmt: skip
    c.add("fingerprint-mismatch", "new_fingerprint does not match new_cert", "no_chain",
          renewals=[broken(r01, lambda r: r["renewal"].update(new_fingerprint=fp[2])), r12],
          context=ctx)  # fmt: skip
    c.add("alg-not-allowed", "alg none", "no_chain",
          renewals=[broken(r01, lambda r: r.update(alg="none")), r12], context=ctx)  # fmt: skip
    c.add("alg-key-mismatch", "alg ES256 over an Ed25519 certificate's key", "no_chain",
          renewals=[broken(r01, lambda r: r.update(alg="ES256")), r12], context=ctx)  # fmt: skip
    c.add("signature-not-base64", "signature with a character outside base64", "no_chain",
          renewals=[broken(r01, lambda r: r.update(signature="!" + r["signature"][1:])), r12],
          context=ctx)  # fmt: skip
    c.add("signature-bit", "a bit of the ES256 signature's r flipped", "no_chain",
          renewals=[r01, broken(r12, lambda r: r.update(signature=b64(
              base64.b64decode(r["signature"])[:10]
              + bytes([base64.b64decode(r["signature"])[10] ^ 1])
              + base64.b64decode(r["signature"])[11:])))], context=ctx)  # fmt: skip
    self_signed = sign_renewal(_pem(k2), c2, c2, at=datetime(2026, 11, 1, tzinfo=UTC))
    c.add("wrong-signer", "renewal 1 → 2 replaced by one the new key signed about itself",
          "no_chain", renewals=[r01, broken(r12, lambda r: r.update(
              signature=self_signed["signature"], alg="EdDSA"))], context=ctx)  # fmt: skip
    k3 = _rsa_key("cert/3")
    c3 = _certificate("server.example", k3.public_key(), "vectors issuer", ca, 1003)
    fp3 = certificate_fingerprint(
        x509.load_pem_x509_certificate(c3).public_bytes(serialization.Encoding.DER)
    )
    r30 = sign_renewal(_pem(k3), c3, c0, at=datetime(2026, 12, 1, tzinfo=UTC))
    if r30["alg"] != "RS256":
        raise AssertionError("RSA renewal not RS256")
    rsa_ctx = {"pinned": fp3, "presented": fp[0]}
    c.add("rs256-link", "an RSA certificate (3) renewed to cert 0 (RS256)", reached(0),
          renewals=[r30], context=rsa_ctx)  # fmt: skip
    c.add("rs256-tampered", "the RS256 renewal's new_cert swapped for cert 2 and its "
          "fingerprint", "no_chain", renewals=[broken(r30, lambda r: r["renewal"].update(
              new_cert=c2.decode(), new_fingerprint=fp[2]))],
          context={"pinned": fp3, "presented": fp[2]})  # fmt: skip
    c.add("rs256-as-es256", "alg ES256 over the RSA certificate's key", "no_chain",
          renewals=[broken(r30, lambda r: r.update(alg="ES256"))], context=rsa_ctx)  # fmt: skip
    return {
        "description": (
            "TLS certificate renewals of a C/S Sec. server (core.certs.follow_renewals): "
            "whether a chain leads from the pinned fingerprint to the presented one. "
            "The ES256 signature here is RFC 6979 deterministic; cssec's own are randomised."
        ),
        "certificates": {"0": c0.decode(), "1": c1.decode(), "2": c2.decode(), "3": c3.decode()},
        "fingerprints": {"0": fp[0], "1": fp[1], "2": fp[2], "3": fp3},
        "cases": c.items,
    }


# --- install_tokens.json ----------------------------------------------------------------


def install_tokens_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("install_tokens", keys)
    secret = base64.urlsafe_b64encode(seed("install-token")[:24]).decode().rstrip("=")
    hexfp = hashlib.sha256(b"a server certificate").hexdigest()
    token = join_install_token(secret, "sha256:" + hexfp)

    def split(sec: str, fp: str | None) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["secret"] == sec and v["fingerprint"] == fp

    c.add("with-fingerprint", "secret and certificate fingerprint",
          split(secret, "sha256:" + hexfp), input=token)  # fmt: skip
    c.add("secret-only", "a server on plain HTTP", split(secret, None), input=secret)
    c.add("surrounding-space", "copied with a line break", split(secret, "sha256:" + hexfp),
          input=f"  {token}\n")  # fmt: skip
    c.add("upper-case-hex", "fingerprint in upper case", split(secret, "sha256:" + hexfp),
          input=f"{secret}.{hexfp.upper()}")  # fmt: skip
    c.add("colon-hex", "fingerprint with colons", split(secret, "sha256:" + hexfp),
          input=secret + "." + ":".join(hexfp[i : i + 2] for i in range(0, 64, 2)))  # fmt: skip
    c.add("suffix-not-fingerprint", "a suffix that is not 64 hex stays part of the secret",
          split(f"{secret}.abc", None), input=f"{secret}.abc")  # fmt: skip
    return {
        "description": (
            "Install tokens <secret>.<64 hex> (core.install_tokens.split_install_token): "
            "expect.secret, expect.fingerprint (sha256:<hex> or null), and "
            "expect.secret_sha256, what the server stores and compares."
        ),
        "cases": c.items,
    }


# --- webhooks.json ----------------------------------------------------------------------


def webhooks_file(keys: dict[str, Any]) -> dict[str, Any]:
    from cssec.vendor_service.services.webhooks import signed_headers

    c = Cases("webhooks", keys)
    secret = "whsec_" + b64(seed("webhook")[:32])
    other = "whsec_" + b64(seed("webhook/other")[:32])
    body = json.dumps(
        {"type": "contract.renewed", "timestamp": "2026-12-07T12:00:00Z",
         "data": {"contract_id": 1001, "ends_on": "2028-12-31", "customer": "株式会社テスト"}},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True,
    )  # fmt: skip
    msg_id = "msg_" + seed("webhook-id")[:16].hex()
    headers = signed_headers(secret, msg_id, body, NOW)
    now = int(NOW.timestamp())
    ctx = {"secret": secret, "now": now}
    c.add("valid", "as the vendor posts it", None, headers=headers, body=body, context=ctx)
    c.add("valid-at-tolerance", "received 300 s later", None, headers=headers, body=body,
          context={**ctx, "now": now + 300})  # fmt: skip
    c.add("stale", "received 301 s later (a replay)", "timestamp_too_old", headers=headers,
          body=body, context={**ctx, "now": now + 301})  # fmt: skip
    c.add("valid-ahead-at-tolerance", "timestamp 300 s ahead of the receiver's clock", None,
          headers=headers, body=body, context={**ctx, "now": now - 300})  # fmt: skip
    c.add("future", "timestamp 301 s ahead of the receiver's clock", "timestamp_too_new",
          headers=headers, body=body, context={**ctx, "now": now - 301})  # fmt: skip
    c.add("wrong-secret", "verified with another endpoint's secret", "no_matching_signature",
          headers=headers, body=body, context={**ctx, "secret": other})  # fmt: skip
    c.add("tampered-body", "one character of the body changed", "no_matching_signature",
          headers=headers, body=body.replace("2028", "2029"), context=ctx)  # fmt: skip
    c.add("other-id", "the webhook-id of another message", "no_matching_signature",
          headers={**headers, "webhook-id": msg_id[:-1] + "X"}, body=body, context=ctx)  # fmt: skip
    c.add("moved-timestamp", "timestamp moved by one second, signature kept",
          "no_matching_signature",
          headers={**headers, "webhook-timestamp": str(now + 1)}, body=body, context=ctx)  # fmt: skip
    rotated = signed_headers(other, msg_id, body, NOW)["webhook-signature"]
    c.add("several-signatures", "two signatures, one under this secret", None,
          headers={**headers, "webhook-signature": f"{rotated} {headers['webhook-signature']}"},
          body=body, context=ctx)  # fmt: skip
    c.add("v2-prefix", "the same MAC under an unknown version prefix",
          "no_matching_signature",
          headers={**headers, "webhook-signature": "v2" + headers["webhook-signature"][2:]},
          body=body, context=ctx)  # fmt: skip
    c.add("missing-signature", "no webhook-signature header", "missing_header",
          headers={k: v for k, v in headers.items() if k != "webhook-signature"}, body=body,
          context=ctx)  # fmt: skip
    c.add("timestamp-not-integer", "a timestamp with a fraction", "invalid_timestamp",
          headers={**headers, "webhook-timestamp": f"{now}.0"}, body=body, context=ctx)  # fmt: skip
    c.add("header-case", "header names in another case", None,
          headers={k.title(): v for k, v in headers.items()}, body=body, context=ctx)  # fmt: skip
    return {
        "description": (
            "Outgoing webhooks (Standard Webhooks; vendor_service.services.webhooks): "
            "context.secret is the endpoint's whsec_ secret, context.now the receiver's "
            "clock (Unix seconds). body is the exact request body (UTF-8)."
        ),
        "cases": c.items,
    }
