"""The server's TLS certificate: made at install (or the administrator's own), shown,
renewed.

Clients pin the certificate itself (its SHA-256 fingerprint reaches them inside the install
token, or by `--fingerprint`), so a renewal must be something they can check without trusting
the network: `renew_certificate` signs a renewal statement with the OLD private key and keeps
every statement in `tls-renewals.json`, which `GET /api/v1/agent/tls-renewals` serves; a
client whose pin no longer matches follows the chain from its pin (`cssec.core.certs`).
`serve` reads the certificate when it starts, so a renewal takes effect on restart.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.core.certs import (
    CertificateSummary,
    check_key_pair,
    make_self_signed,
    sign_renewal,
    summarize,
)
from cssec.core.errors import Phrase, ValidationFailed
from cssec.core.names import HOST_NAME, check_name
from cssec.core.secret_files import write_secret_file
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.errors import CertificateInvalid, CertificateMissing


@dataclass(frozen=True)
class TlsMaterial:
    cert_pem: bytes
    key_pem: bytes = field(repr=False)


def default_hostnames() -> list[str]:
    """The machine's FQDN, its short name and 127.0.0.1: the names clients and the
    administrator's browser most likely use."""
    fqdn = socket.getfqdn().rstrip(".")
    short = socket.gethostname().split(".", 1)[0]
    return list(dict.fromkeys(n for n in (fqdn, short, "127.0.0.1") if n))


def _check_names(names: Sequence[str]) -> list[str]:
    checked = []
    for name in names:
        value = name.strip().rstrip(".")
        try:
            ipaddress.ip_address(value)
        except ValueError:
            try:
                check_name(value, HOST_NAME)
            except ValueError as exc:
                raise ValidationFailed(detail=f"--hostname {name!r}: {exc}") from None
            if any(ch.isspace() or ch in "/:@" for ch in value):
                raise ValidationFailed(
                    detail=Phrase(
                        f"--hostname {name!r}はホスト名ではありません",
                        f"--hostname {name!r} is not a host name",
                    )
                ) from None
        checked.append(value)
    return checked


def prepare_certificate(
    *,
    now: datetime,
    hostnames: Sequence[str] = (),
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> TlsMaterial:
    """The administrator's certificate and key, checked (they match, not expired), or a new
    self-signed ECDSA P-256 certificate for `hostnames` (default: `default_hostnames()`)."""
    if (cert_file is None) != (key_file is None):
        raise CertificateInvalid(detail="give both --tls-cert and --tls-key")
    if cert_file is None or key_file is None:
        names = _check_names(hostnames) if hostnames else default_hostnames()
        key_pem, cert_pem = make_self_signed(names, now=now)
        return TlsMaterial(cert_pem=cert_pem, key_pem=key_pem)
    if hostnames:
        raise ValidationFailed(
            detail="--hostname names a generated certificate; not with --tls-cert"
        )
    try:
        cert_pem, key_pem = cert_file.read_bytes(), key_file.read_bytes()
    except OSError as exc:
        raise CertificateInvalid(detail=f"{exc.filename}: {exc.strerror}") from None
    try:
        check_key_pair(cert_pem, key_pem, now=now)
    except ValueError as exc:
        raise CertificateInvalid(detail=str(exc)) from None
    return TlsMaterial(cert_pem=cert_pem, key_pem=key_pem)


def write_certificate(data: DataDir, material: TlsMaterial) -> None:
    """Key first (0600), then the certificate: `serve` reads both when it starts."""
    write_secret_file(data.tls_key, material.key_pem)
    write_secret_file(data.tls_cert, material.cert_pem)


def read_certificate(data: DataDir) -> bytes | None:
    try:
        return data.tls_cert.read_bytes()
    except FileNotFoundError:
        return None


def show_certificate(data: DataDir) -> CertificateSummary:
    cert = read_certificate(data)
    if cert is None:
        raise CertificateMissing(path=str(data.tls_cert), data=str(data.root))
    try:
        return summarize(cert)
    except ValueError as exc:
        raise CertificateInvalid(detail=f"{data.tls_cert}: {exc}") from None


_fingerprints: dict[Path, tuple[tuple[int, int], str]] = {}


def current_fingerprint(data: DataDir) -> str | None:
    """The fingerprint of the certificate in the data directory (None without one), read
    again only when the file changes: install pages ask for it on every token."""
    try:
        stat = os.stat(data.tls_cert)
    except FileNotFoundError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _fingerprints.get(data.tls_cert)
    if cached is not None and cached[0] == key:
        return cached[1]
    cert = read_certificate(data)
    if cert is None:
        return None
    fingerprint = summarize(cert).fingerprint
    _fingerprints[data.tls_cert] = (key, fingerprint)
    return fingerprint


def read_renewals(data: DataDir) -> list[Any]:
    try:
        raw = json.loads(data.tls_renewals.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    renewals = raw.get("renewals") if isinstance(raw, dict) else None
    return renewals if isinstance(renewals, list) else []


@dataclass(frozen=True)
class Renewed:
    old: CertificateSummary | None
    new: CertificateSummary


def renew_certificate(
    data: DataDir, *, now: datetime, material: TlsMaterial | None = None
) -> Renewed:
    """Replace the certificate and its key (new self-signed for the same names unless
    `material` is given), after recording the renewal statement the old key signs."""
    old_cert = read_certificate(data)
    old: CertificateSummary | None = None
    if old_cert is not None:
        old = summarize(old_cert)
    if material is None:
        names = old.names if old is not None and old.names else default_hostnames()
        key_pem, cert_pem = make_self_signed(names, now=now)
        material = TlsMaterial(cert_pem=cert_pem, key_pem=key_pem)
    if old_cert is not None:
        try:
            statement = sign_renewal(data.tls_key.read_bytes(), old_cert, material.cert_pem, at=now)
        except (OSError, ValueError) as exc:
            raise CertificateInvalid(detail=f"the current key cannot sign: {exc}") from None
        body = {"renewals": [*read_renewals(data), statement]}
        write_secret_file(data.tls_renewals, json.dumps(body, indent=2).encode("utf-8"))
    write_certificate(data, material)
    return Renewed(old=old, new=summarize(material.cert_pem))


def serving_files(data: DataDir) -> tuple[str, str]:
    """(certificate, key) paths for uvicorn; CertificateMissing when there is none."""
    if not data.tls_cert.is_file() or not data.tls_key.is_file():
        raise CertificateMissing(path=str(data.tls_cert), data=str(data.root))
    return str(data.tls_cert), str(data.tls_key)
