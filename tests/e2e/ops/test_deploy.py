"""deploy/ as shipped: the systemd units pass `systemd-analyze verify` without a warning,
the nginx site passes `nginx -t` (with a test certificate in place of the real one), and
the site and the vendor's example settings agree (X-Accel prefix, trusted proxy)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.helpers.nginx import nginx_binary

from cssec.core.certs import make_self_signed

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SITE = DEPLOY / "nginx" / "cssec-vendor.conf"
VENDOR_ENV = DEPLOY / "env" / "vendor.env.example"
INSTALLED_CSSEC = "/opt/cssec/venv/bin/cssec"


def _verify(unit_dir: Path) -> subprocess.CompletedProcess[str]:
    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    return subprocess.run(
        [systemd_analyze, "verify", *sorted(str(p) for p in unit_dir.glob("*.service"))],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _installed(units: list[Path], into: Path, *, edit: str = "") -> None:
    """The units as installed, ExecStart pointing at this checkout's cssec (verify checks
    that the program exists)."""
    into.mkdir()
    cssec = str(Path(sys.executable).with_name("cssec"))
    for unit in units:
        text = unit.read_text().replace(INSTALLED_CSSEC, cssec) + edit
        (into / unit.name).write_text(text)


def test_the_units_cover_vendor_server_and_real_time_scan() -> None:
    names = {u.name for u in UNITS}
    assert names == {"cssec-vendor.service", "cssec-server.service", "cssec-client-watch.service"}
    vendor = (DEPLOY / "systemd" / "cssec-vendor.service").read_text()
    assert "--workers ${CSSEC_VENDOR_WORKERS}" in vendor
    assert "TimeoutStopSec=" in vendor
    assert "KillSignal=SIGTERM" in vendor
    assert "cssec client watch" in (DEPLOY / "systemd" / "cssec-client-watch.service").read_text()


def test_systemd_units_verify_cleanly(tmp_path: Path) -> None:
    _installed(UNITS, tmp_path / "units")
    result = _verify(tmp_path / "units")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # warnings count too


def test_the_unit_check_would_catch_a_mistake(tmp_path: Path) -> None:
    _installed(UNITS[:1], tmp_path / "units", edit="Restart=sometimes\n")
    result = _verify(tmp_path / "units")
    assert "restart" in result.stderr.lower()


def _site_under_test(tmp_path: Path) -> Path:
    key, cert = make_self_signed(["license.example.co.jp"], now=datetime.now(UTC))
    (tmp_path / "test.key").write_bytes(key)
    (tmp_path / "test.pem").write_bytes(cert)
    site = SITE.read_text()
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {tmp_path}/test.pem;", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {tmp_path}/test.key;", site)
    (tmp_path / "site.conf").write_text(site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {tmp_path}/site.conf;\n"
        "}\n"
    )
    return conf


def _nginx_t(tmp_path: Path, conf: Path) -> subprocess.CompletedProcess[str]:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (.ci/run installs Debian's nginx)")
    return subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    result = _nginx_t(tmp_path, _site_under_test(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_t_would_catch_a_mistake(tmp_path: Path) -> None:
    conf = _site_under_test(tmp_path)
    site = tmp_path / "site.conf"
    site.write_text(site.read_text().replace("internal;", "internal_only;"))
    assert _nginx_t(tmp_path, conf).returncode != 0


def test_the_site_and_the_vendor_settings_agree() -> None:
    site = SITE.read_text()
    env = dict(
        line.split("=", 1)
        for line in VENDOR_ENV.read_text().splitlines()
        if line and not line.startswith("#")
    )
    prefix = env["CSSEC_VENDOR_ACCEL_REDIRECT_PREFIX"]
    block = re.search(rf"location {re.escape(prefix)} \{{(.*?)\}}", site, re.S)
    assert block is not None, "no X-Accel location for the prefix the nodes send"
    assert "internal;" in block.group(1)
    assert "alias /var/lib/cssec/vendor/activeupdate/;" in block.group(1)
    assert env["CSSEC_VENDOR_TRUSTED_PROXIES"] == "127.0.0.1"
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # no client-sent chain
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    upstream = re.search(r"upstream cssec_vendor \{(.*?)\}", site, re.S)
    assert upstream is not None
    assert upstream.group(1).count("server ") >= 2
    assert env["CSSEC_VENDOR_STATUS_LOG_DURABLE"] == "true"
    for location in ("/api/v1/status", "/api/v1/activeupdate/manifest"):
        retried = re.search(rf"location = {re.escape(location)} \{{(.*?)\}}", site, re.S)
        assert retried is not None
        assert "non_idempotent" in retried.group(1)
    registrations = re.search(r"location / \{(.*?)\}", site, re.S)
    assert registrations is not None
    assert "non_idempotent" not in registrations.group(1)
