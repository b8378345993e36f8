"""A machine in the middle, as its own process: a loopback HTTP proxy that forwards to a
real cssec server or vendor and rewrites what passes, the way an attacker on the network
between the parts would (test code).

    python -m tests.helpers.attacker --upstream URL --port P --mode MODE [--record FILE]

Modes:
- `resign_manifest` (between a client and its server): the agent manifest names
  `virus_pattern` v99, a rule that matches every file, re-signed with the attacker's own
  key; the attacker's file is served for it; `/api/v1/agent/vendor-keys` answers the
  attacker's key, bare and with an endorsement the attacker signed itself.
- `swap_keys` (between a server and the vendor): `/api/v1/keys` answers the attacker's key;
  every signed statement (status, ActiveUpdate manifest) is re-signed with it and status
  statements carry contract_end 2099-12-31.
- `impersonate_status` (in the vendor's place): `/api/v1/keys` answers the attacker's key
  and every status request is answered "activated until 2099-12-31, 65535 seats" for
  whatever code was sent, nonce and server id echoed, signed with the attacker's key.
- `replay_status` (between a server and the vendor): the first status statement seen for a
  code is kept and answered again for every later status request of that code, byte for
  byte (a capture replayed).
- `tuf_rollback`, `tuf_freeze`, `tuf_mix_and_match`, `tuf_endless_data`,
  `tuf_arbitrary_software` (between a server and the vendor's TUF repository): TUF traffic
  is recorded as it passes; once the file given by `--arm-file` exists, the attack starts
  (`tests.helpers.tuf.TufTampering`): the recorded timestamp served again (rollback,
  freeze), the recorded targets for a newer version (mix-and-match), a virus pattern
  longer than its length (endless data) or another file of the same length (arbitrary
  software).
- `client_tuf_rollback`, `client_tuf_freeze`, `client_tuf_arbitrary_software` (between a
  client and its server's TUF mirror, `/api/v1/agent/tuf/`): the same, armed the same way.

Everything else passes through unchanged. The attacker's key is fresh per process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from tests.helpers.tuf import AGENT_TUF, TufTampering

from cssec.core.signing import SigningKey, endorse_key, sign_statement

TUF_MODES = ("rollback", "freeze", "mix_and_match", "endless_data", "arbitrary_software")

EVIL_RULE = b"rule Eicar_test_file { condition: true }\n"
EVIL_SHA = hashlib.sha256(EVIL_RULE).hexdigest()
FORGED_END = "2099-12-31"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Attacker:
    def __init__(self, upstream: str, mode: str, arm_file: Path | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.arm_file = arm_file
        self.tuf = TufTampering(recording=True)
        if mode.startswith("client_tuf_"):
            self.mode = mode.removeprefix("client_")
            self.tuf.prefix = AGENT_TUF
        self.key = SigningKey.generate()
        self.captured: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def key_set(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "keys": [self.key.public.to_jwk()],
            "endorsements": [endorse_key(self.key.public, self.key, at=now)],
        }

    def rewrite(self, method: str, path: str, request_body: bytes, body: bytes) -> bytes | None:
        """The attacker's answer for this request, or None to pass the real one through."""
        if self.mode.startswith("tuf_"):
            if not path.startswith(self.tuf.prefix):
                return None
            with self.lock:
                armed = self.arm_file is not None and self.arm_file.exists()
                self.tuf.mode = self.mode.removeprefix("tuf_") if armed else None
                self.tuf.recording = self.tuf.recording and not armed
                return self.tuf.rewrite(path, body)
        if self.mode == "resign_manifest":
            if path.startswith("/api/v1/agent/vendor-keys"):
                return json.dumps(self.key_set()).encode()
            if path.startswith(f"/api/v1/agent/files/virus_pattern/{EVIL_SHA}"):
                return EVIL_RULE
            if path.startswith("/api/v1/agent/manifest"):
                statement = json.loads(body)["statement"]
                statement["serial"] += 1
                statement["components"]["virus_pattern"].update(
                    version=99, sha256=EVIL_SHA, size=len(EVIL_RULE)
                )
                return json.dumps(sign_statement(statement, self.key)).encode()
        if self.mode == "swap_keys":
            if path.startswith("/api/v1/keys"):
                return json.dumps(self.key_set()).encode()
            envelope = _json(body)
            if isinstance(envelope, dict) and isinstance(envelope.get("statement"), dict):
                statement = envelope["statement"]
                if "contract_end" in statement:
                    statement["contract_end"] = FORGED_END
                return json.dumps(sign_statement(statement, self.key)).encode()
        if self.mode == "impersonate_status":
            if path.startswith("/api/v1/keys"):
                return json.dumps(self.key_set()).encode()
            if method == "POST" and path == "/api/v1/status":
                asked = _json(request_body) or {}
                code = str(asked.get("activation_code", "")).replace("-", "").upper()
                statement = {
                    "v": 1, "activation_code": code, "server_id": asked.get("server_id"),
                    "product": "DCS" if code.startswith("DC") else "CS",
                    "version_type": "full", "state": "activated", "contract_end": FORGED_END,
                    "grace_days": 30, "grace_end": "2100-01-30", "seats": 65535,
                    "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "nonce": asked.get("nonce"),
                }  # fmt: skip
                return json.dumps(sign_statement(statement, self.key)).encode()
        if self.mode == "replay_status" and method == "POST" and path == "/api/v1/status":
            code = str((_json(request_body) or {}).get("activation_code"))
            with self.lock:
                return self.captured.setdefault(code, body)
        return None


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _handler(attacker: Attacker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            with httpx.Client(base_url=attacker.upstream, timeout=60) as client:
                response = client.request(self.command, self.path, headers=headers, content=payload)
            body = response.content
            kind = response.headers.get("content-type", "application/octet-stream")
            status = response.status_code
            forged = attacker.rewrite(self.command, self.path, payload, body)
            if forged is not None and attacker.mode.startswith("tuf_"):
                if status != 200:
                    forged = None  # refusals pass as they are
                elif forged == body:
                    forged = None
            if forged is not None:
                body, status = forged, 200
                if forged is EVIL_RULE:
                    kind = "application/octet-stream"
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        do_GET = _proxy  # noqa: N815
        do_POST = _proxy  # noqa: N815

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--mode", required=True, choices=["resign_manifest", "swap_keys", "replay_status",
                                          "impersonate_status",
                                          *(f"tuf_{m}" for m in TUF_MODES),
                                          *(f"client_tuf_{m}" for m in TUF_MODES)],
    )  # fmt: skip
    parser.add_argument("--arm-file", type=Path, default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), _handler(Attacker(args.upstream, args.mode, args.arm_file))
    )
    server.daemon_threads = True
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
