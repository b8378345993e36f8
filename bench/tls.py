"""What HTTPS costs a status check: the vendor's `POST /api/v1/status` over HTTPS against
the same over plain HTTP, same vendor data, same workers, same run.

Run: ``.venv/bin/python bench/tls.py [--quick] [--seconds 20] [--workers 2]``

A vendor seeded with SQLite contracts (`http_load.seeded_vendor`) is served twice through
`cssec.web.serving` (as `cssec vendor serve` serves it), once with a self-signed ECDSA
P-256 certificate (`cssec.core.certs.make_self_signed`, as `cssec server install` makes),
once without; wrk (64 keep-alive connections; HTTPS without certificate checks) cycles
through the same 1,000 codes against each, HTTP first, then HTTPS, then HTTP again so a
drift of the shared machine shows. ratio = HTTPS req/s / HTTP req/s (the mean of the two
HTTP runs). With keep-alive the handshake is paid once per connection, so the ratio is
mostly the cost of AES-GCM records and the TLS layer in asyncio's SSL transport.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cssec.core.certs import make_self_signed
from http_load import (
    VENDOR_FACTORY,
    LoadResult,
    common_args,
    drive,
    machine_line,
    seeded_vendor,
    serve,
)
from status import status_requests


def main() -> None:
    args = common_args(__doc__.split("\n\n")[0]).parse_args()
    print(machine_line())
    seconds = 5.0 if args.quick else args.seconds
    warm = 2.0 if args.quick else 5.0
    kw = {"connections": args.connections, "driver": args.driver}
    with (
        tempfile.TemporaryDirectory() as tmp,
        seeded_vendor(postgres=False, contracts=2_000 if args.quick else 20_000) as seeded,
    ):
        key, cert = make_self_signed(["127.0.0.1", "localhost"], now=datetime.now(UTC))
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(cert)
        key_file.write_bytes(key)
        requests = status_requests(seeded.activation_codes)
        results: dict[str, LoadResult] = {}
        for label, tls in (
            ("http", None),
            ("https", (str(cert_file), str(key_file))),
            ("http again", None),
        ):
            with serve(
                VENDOR_FACTORY, env=seeded.env, workers=args.workers, server="uvicorn",
                factory=True, ready_path="/api/v1/health", tls=tls,
            ) as (base, _proc):  # fmt: skip
                drive(base, requests, seconds=warm, **kw)
                results[label] = drive(base, requests, seconds=seconds, **kw)
            print(f"  {label:10} {results[label].line()}")
    plain = (results["http"].rps + results["http again"].rps) / 2
    ratio = results["https"].rps / plain
    print(f"status check, SQLite, uvicorn x{args.workers}, {len(requests)} codes")
    print(f"  HTTPS / HTTP = {ratio:.2f}")
    print(
        "RESULT "
        + json.dumps(
            {
                "https_rps": round(results["https"].rps),
                "http_rps": round(plain),
                "ratio": round(ratio, 3),
                "https_p99_ms": results["https"].p99_ms,
                "http_p99_ms": results["http"].p99_ms,
                "errors": sum(r.errors for r in results.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
