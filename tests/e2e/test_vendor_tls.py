"""Server → vendor over HTTPS, real processes: `cssec vendor serve --tls-cert/--tls-key`,
verified by the server against `--vendor-ca-file` (kept for later calls) or the system store
through SSL_CERT_FILE, refused when neither vouches for it; a plain-HTTP vendor URL is
refused unless loopback or `--insecure-http`."""

from __future__ import annotations

import ipaddress
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tests.helpers.e2e_server import PASSWORD, free_port, wait_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]


def cssec(*args: str, lang: str = "en_US.UTF-8", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env.pop("SSL_CERT_FILE", None)
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo", **extra}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca_and_vendor_cert(root: Path) -> tuple[Path, Path, Path]:
    """A private CA and, signed by it, the vendor's certificate for 127.0.0.1/localhost."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cssec test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vendor")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    ca_file, cert_file, key_file = root / "ca.pem", root / "vendor.pem", root / "vendor.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem(key))
    return ca_file, cert_file, key_file


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(https URL, vendor data dir, CA file) of a `cssec vendor serve` over HTTPS."""
    root = tmp_path_factory.mktemp("vendor-tls")
    ca_file, cert_file, key_file = make_ca_and_vendor_cert(root)
    port = free_port()
    data = root / "vendor"
    log = (root / "vendor.log").open("wb")
    process = subprocess.Popen(
        [*CSSEC, "vendor", "serve", "--data", str(data), "--port", str(port),
         "--tls-cert", str(cert_file), "--tls-key", str(key_file)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    try:
        trust = ssl.create_default_context(cafile=str(ca_file))
        wait_up(f"{url}/api/v1/health", process, root / "vendor.log", verify=trust)
        yield url, data, ca_file
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _install(
    vendor: tuple[str, Path, Path],
    target: Path,
    *args: str,
    url: str = "",
    offline: bool = False,
    lang: str = "en_US.UTF-8",
    **env: str,
) -> subprocess.CompletedProcess[str]:
    vendor_url, data, _ca = vendor
    contract = cssec("vendor", "contract", "new", "--customer", "株式会社TLS", "--seats", "5",
                     "--data", str(data))  # fmt: skip
    assert contract.returncode == 0, contract.stderr
    lines = contract.stdout.strip().splitlines()
    if offline:
        code = next(line.split(": ")[1] for line in lines if line.startswith("activation code CS"))
        credential = ["--activation-code", code, "--offline"]
    else:
        credential = ["--registration-key", lines[-1]]
    fingerprint = cssec("vendor", "keys", "public", "--fingerprint", "--data", str(data))
    password = target.parent / "admin.pw"
    password.write_text(PASSWORD + "\n")
    return cssec(
        "server", "install", "--data", str(target), "--vendor-url", url or vendor_url,
        *credential, "--admin-password-file", str(password),
        "--vendor-key-fingerprint", fingerprint.stdout.strip().splitlines()[-1], *args,
        lang=lang, **env,
    )  # fmt: skip


def test_the_vendor_serves_https_with_hsts(vendor: tuple[str, Path, Path]) -> None:
    url, _data, ca_file = vendor
    trust = ssl.create_default_context(cafile=str(ca_file))
    response = httpx.get(f"{url}/console/login", verify=trust)
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "secure" in response.headers["set-cookie"].lower()


def test_an_untrusted_vendor_certificate_is_refused(
    vendor: tuple[str, Path, Path], tmp_path: Path
) -> None:
    refused = _install(vendor, tmp_path / "server")
    assert refused.returncode != 0
    assert "vendor_unreachable" in refused.stderr
    assert "certificate" in refused.stderr
    assert not (tmp_path / "server").exists()


def test_the_vendor_ca_file_is_kept_for_later_calls(
    vendor: tuple[str, Path, Path], tmp_path: Path
) -> None:
    target = tmp_path / "server"
    installed = _install(vendor, target, "--vendor-ca-file", str(vendor[2]))
    assert installed.returncode == 0, installed.stderr
    assert (target / "vendor-ca.pem").read_bytes() == vendor[2].read_bytes()
    checked = cssec("server", "license", "check-online", "--data", str(target))
    assert checked.returncode == 0, checked.stderr


def test_the_system_store_honours_ssl_cert_file(
    vendor: tuple[str, Path, Path], tmp_path: Path
) -> None:
    installed = _install(vendor, tmp_path / "server", SSL_CERT_FILE=str(vendor[2]))
    assert installed.returncode == 0, installed.stderr


def test_plain_http_only_for_loopback_or_when_allowed(
    vendor: tuple[str, Path, Path], tmp_path: Path
) -> None:
    far = "http://192.0.2.10:8100"  # TEST-NET-1: never reached
    for lang, words in (("ja_JP.UTF-8", "平文の HTTP"), ("en_US.UTF-8", "plain HTTP")):
        refused = _install(vendor, tmp_path / lang, url=far, offline=True, lang=lang)
        assert refused.returncode != 0
        assert "insecure_vendor_url" in refused.stderr
        assert words in refused.stderr
        assert not (tmp_path / lang).exists()
    allowed = _install(vendor, tmp_path / "allowed", "--insecure-http", url=far, offline=True)
    assert allowed.returncode == 0, allowed.stderr
