# ruff: noqa: T201  (a script that prints)
"""Write the protocol test vectors (docs/vectors/*.json) from cssec's implementation.

    .venv/bin/python docs/vectors/make_vectors.py          # rewrite the files
    .venv/bin/python docs/vectors/make_vectors.py --check  # exit 1 if they differ

Deterministic: every key is derived from a fixed label, every time and nonce is fixed,
and every signature scheme used is deterministic (Ed25519, HMAC, and ECDSA with RFC 6979
nonces for the one certificate renewal signed with P-256). Each case is built by the
implementation (`sign_statement`, `encode_activation_code`, `build_request`, ...), damaged
in one way where it is meant to be invalid, and its expected verdict is what cssec's own
verifier says (`pyverify.py`); the generator also asserts that verdict is the one the case
was written for, so a case cannot silently test something else. The cases live in
vectors_codes.py, vectors_signed.py, vectors_files.py and vectors_transport.py, by section
of docs/protocol.md; vectors_common.py holds what they share.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from vectors_codes import canonical_file, codes_file  # noqa: E402
from vectors_common import FORMAT, keys_file  # noqa: E402
from vectors_files import bundles_file, manifests_file, requests_file, responses_file  # noqa: E402
from vectors_signed import endorsements_file, envelopes_file, status_file  # noqa: E402
from vectors_transport import cert_renewals_file, install_tokens_file, webhooks_file  # noqa: E402

# --- main -------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "codes": codes_file,
    "canonical_json": canonical_file,
    "envelopes": envelopes_file,
    "status_statements": status_file,
    "endorsements": endorsements_file,
    "license_requests": requests_file,
    "license_responses": responses_file,
    "cert_renewals": cert_renewals_file,
    "install_tokens": install_tokens_file,
    "bundles": bundles_file,
    "manifests": manifests_file,
    "webhooks": webhooks_file,
}


def dump(data: Any) -> str:
    """How a vector file is written: ASCII only (every invisible character escaped)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def build() -> dict[str, str]:
    """File name → text, for every vector file."""
    keys = keys_file()
    out = {"keys.json": dump(keys)}
    for stem, builder in BUILDERS.items():
        body = builder(keys)
        body["format"] = FORMAT
        out[f"{stem}.json"] = dump(body)
    return out


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [n for n, t in files.items() if (HERE / n).read_text("utf-8") != t]
        for name in stale:
            print(f"{name} differs from the implementation", file=sys.stderr)
        return 1 if stale else 0
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
    cases = sum(len(json.loads(t).get("cases", [])) for t in files.values())
    print(f"wrote {len(files)} files, {cases} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
