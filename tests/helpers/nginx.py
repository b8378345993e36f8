"""Debian's nginx as a real process for the tests and benches: its own prefix and config in
a temporary directory, loopback ports only, in the foreground (`daemon off`), stopped with
the test. The site is the one deploy/nginx/cssec-vendor.conf describes, without TLS: an
upstream of vendor nodes, `proxy_next_upstream` retrying status checks and manifest
polls on another node, the `internal` X-Accel location for component files."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ACCEL_PREFIX = "/_cssec_files/"


def nginx_binary() -> str | None:
    """nginx on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


@dataclass
class Nginx:
    url: str
    process: subprocess.Popen[bytes]
    prefix: Path

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def site_config(
    *,
    prefix: Path,
    port: int,
    upstreams: list[int],
    files_root: Path | None = None,
    static_root: Path | None = None,
    keepalive: int = 32,
) -> str:
    """nginx.conf for `nginx -p prefix -c nginx.conf`."""
    user = "user root;" if os.geteuid() == 0 else ""  # root: read the 0600 component files
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams
    )
    # Status checks and manifest polls are POSTs, retried on another node even once sent
    # (`non_idempotent`): they change nothing but add a history row (see the scale test).
    retried = """
            proxy_pass http://cssec_vendor;
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
"""
    files = ""
    if files_root is not None:
        files = f"""
        location {ACCEL_PREFIX} {{
            internal;
            alias {files_root}/;
            etag off;
            types {{ }}
            default_type application/octet-stream;
            add_header ETag $upstream_http_etag always;
        }}"""
    static = ""
    if static_root is not None:
        static = f"""
        location /static/ {{
            alias {static_root}/;
            types {{ }}
            default_type application/octet-stream;
        }}"""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    upstream cssec_vendor {{
{servers}
        keepalive {keepalive};
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-Id $request_id;  # the same on a retry: one history row
        proxy_next_upstream error timeout http_502 http_503;
        proxy_connect_timeout 2s;
        add_header X-Upstream $upstream_addr always;  # which node(s) answered
        location = /api/v1/status {{{retried}        }}
        location = /api/v1/activeupdate/manifest {{{retried}        }}
        location / {{
            proxy_pass http://cssec_vendor;
        }}{files}{static}
    }}
}}
"""


@contextmanager
def running_nginx(
    prefix: Path,
    *,
    port: int,
    upstreams: list[int],
    files_root: Path | None = None,
    static_root: Path | None = None,
) -> Iterator[Nginx]:
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (apt-get install -y nginx)")
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        site_config(
            prefix=prefix, port=port, upstreams=upstreams,
            files_root=files_root, static_root=static_root,
        )
    )  # fmt: skip
    log = (prefix / "stdout.log").open("wb")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    nginx = Nginx(f"http://127.0.0.1:{port}", process, prefix)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited ({process.returncode}):\n{nginx.error_log()}")
            try:
                httpx.get(f"{nginx.url}/nginx-alive", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not come up:\n{nginx.error_log()}") from None
                time.sleep(0.1)
        yield nginx
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
