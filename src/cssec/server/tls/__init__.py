"""HTTPS: the server's own certificate (made at install, renewed with a statement the old
key signs, `certificate`) and how the server reaches the vendor over TLS (`vendor`)."""

from __future__ import annotations

from cssec.server.tls.certificate import (
    TlsMaterial,
    current_fingerprint,
    default_hostnames,
    prepare_certificate,
    read_renewals,
    renew_certificate,
    write_certificate,
)
from cssec.server.tls.vendor import VendorTls, check_vendor_url

__all__ = [
    "TlsMaterial",
    "VendorTls",
    "check_vendor_url",
    "current_fingerprint",
    "default_hostnames",
    "prepare_certificate",
    "read_renewals",
    "renew_certificate",
    "write_certificate",
]
