"""How the server reaches the vendor: HTTPS verified against the system trust store (which
honours SSL_CERT_FILE / SSL_CERT_DIR), or against the CA given with `--vendor-ca-file` at
install and kept in the data directory. Plain HTTP only to a loopback vendor, or when the
administrator allowed it at install (`--insecure-http`), recorded in `vendor-tls.json`."""

from __future__ import annotations

import functools
import ipaddress
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cssec.core.errors import ValidationFailed
from cssec.core.secret_files import write_secret_file
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.errors import InsecureVendorUrl, VendorCaInvalid

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback_host(host: str) -> bool:
    name = host.strip("[]").rstrip(".").casefold()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_vendor_url(url: str, *, allow_http: bool) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ValidationFailed(detail=f"--vendor-url must be an https:// URL, not {url!r}")
    if parsed.scheme == "http" and not allow_http and not is_loopback_host(parsed.host):
        raise InsecureVendorUrl(url=url)


@functools.cache
def _context(ca_pem: bytes | None) -> ssl.SSLContext:
    if ca_pem is None:
        return ssl.create_default_context()  # the system store; SSL_CERT_FILE honoured
    context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    # The vendor's own self-signed certificate may be given as its "CA".
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


@dataclass(frozen=True)
class VendorTls:
    ca_pem: bytes | None = field(default=None, repr=False)
    allow_http: bool = False

    @classmethod
    def from_ca_file(cls, path: Path | None, *, allow_http: bool) -> VendorTls:
        if path is None:
            return cls(allow_http=allow_http)
        try:
            ca_pem = path.read_bytes()
            ssl.create_default_context(cadata=ca_pem.decode("ascii"))
        except OSError as exc:
            raise VendorCaInvalid(path=str(path), detail=exc.strerror or str(exc)) from None
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
            raise VendorCaInvalid(path=str(path), detail=str(exc)) from None
        return cls(ca_pem=ca_pem, allow_http=allow_http)

    @classmethod
    def load(cls, data: DataDir) -> VendorTls:
        """What install recorded; a data directory from before it: system store, no HTTP
        beyond loopback."""
        try:
            raw = json.loads(data.vendor_tls.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        ca_pem = data.vendor_ca.read_bytes() if raw.get("ca_file") else None
        return cls(ca_pem=ca_pem, allow_http=raw.get("insecure_http") is True)

    def write(self, data: DataDir) -> None:
        if self.ca_pem is not None:
            write_secret_file(data.vendor_ca, self.ca_pem)
        body = {
            "insecure_http": self.allow_http,
            "ca_file": data.vendor_ca.name if self.ca_pem is not None else None,
        }
        write_secret_file(data.vendor_tls, json.dumps(body, indent=2).encode("utf-8"))

    def context(self) -> ssl.SSLContext:
        return _context(self.ca_pem)

    def check(self, url: str) -> None:
        check_vendor_url(url, allow_http=self.allow_http)
