"""The deployment files agree with the apps' connection limits (issue 22, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

from cssec.server.settings import ServerSettings
from cssec.vendor_service.settings import VendorSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _limit_nofile(unit: str) -> int:
    found = re.search(r"^LimitNOFILE=(\d+)$", (DEPLOY / "systemd" / unit).read_text(), re.M)
    assert found, f"{unit} sets no LimitNOFILE (systemd's soft default is 1024)"
    return int(found.group(1))


def test_both_units_raise_the_descriptor_limit_above_the_concurrency_limit() -> None:
    server = ServerSettings.model_fields["http_max_concurrency"].default
    vendor = VendorSettings.model_fields["http_max_concurrency"].default
    assert _limit_nofile("cssec-server.service") > 4 * server
    assert _limit_nofile("cssec-vendor.service") > 4 * vendor


def test_nginx_drops_idle_upstream_connections_before_the_vendor_does() -> None:
    site = (DEPLOY / "nginx" / "cssec-vendor.conf").read_text()
    upstream = re.search(r"upstream cssec_vendor \{(.*?)\}", site, re.S)
    assert upstream is not None
    found = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert found, "nginx keeps idle upstream connections 60 s by default"
    assert int(found.group(1)) < VendorSettings.model_fields["http_keep_alive"].default
