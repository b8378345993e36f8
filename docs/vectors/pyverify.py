"""The Python side of the test vectors: cssec's own verifiers, run over one vector case.

Each function takes a case as it stands in a vector file (plus the shared `keys.json`) and
returns the verdict cssec's implementation reaches, in the shape the vector files record
(`{"ok": ..., "reason": ...}` and a few fields). `make_vectors.py` writes these verdicts as
the expected ones; `tests/core/test_protocol_vectors.py` re-runs them over the committed
files. Where the implementation's check needs a database or a data directory (a pending
request, the slots' codes), the case's `context` stands in for it and the same pure
functions run in the same order as the server's code (named in each docstring).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from cssec.core import codes as codes_mod
from cssec.core.certs import certificate_fingerprint, follow_renewals
from cssec.core.errors import CssecError
from cssec.core.install_tokens import split_install_token
from cssec.core.license import Product
from cssec.core.license_files import parse_request, parse_response
from cssec.core.signing import VerifyingKey, canonical_json, follow_endorsements, verify_statement

Verdict = dict[str, Any]


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def vendor_keys(keys_file: Mapping[str, Any], kids: list[str]) -> dict[str, VerifyingKey]:
    """The verifying keys named by kid from keys.json's `ed25519` table."""
    table = {entry["kid"]: entry for entry in keys_file["ed25519"].values()}
    return {kid: VerifyingKey.from_jwk(table[kid]["jwk"]) for kid in kids}


# --- codes ------------------------------------------------------------------------------


def _code_value(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {
        "text": value.text,
        "formatted": value.formatted,
        "version": value.version,
        "kid": value.kid,
        "serial": value.serial,
        "mac": value.mac.hex(),
    }
    if isinstance(value, codes_mod.ActivationCode):
        out |= {
            "product": value.product.value,
            "version_type": value.version_type.value,
            "seats": value.seats,
            "expires_on": value.expires_on.isoformat(),
        }
    return out


def _code_verdict(check: codes_mod.CodeCheck[Any]) -> Verdict:
    return {
        "ok": check.ok,
        "reason": None if check.error is None else check.error.value,
        "position": check.position,
        "value": _code_value(check.value),
    }


def verify_code(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`parse_*` (what a server checks offline) and `check_*` (the vendor's check, MAC too)."""
    secrets = {int(k): bytes.fromhex(v) for k, v in keys_file["hmac"].items()}
    text = case["input"]
    if case["kind"] == "activation_code":
        expected = case.get("expected_product")
        product = None if expected is None else Product(expected)
        structure = codes_mod.parse_activation_code(text, product=product)
        full = codes_mod.check_activation_code(text, secrets, product=product)
    else:
        structure = codes_mod.parse_registration_key(text)
        full = codes_mod.check_registration_key(text, secrets)
    return {"structure": _code_verdict(structure), "full": _code_verdict(full)}


# --- canonical JSON ---------------------------------------------------------------------


def canonical(case: Mapping[str, Any], _keys_file: Mapping[str, Any]) -> Verdict:
    try:
        data = canonical_json(case["value"])
    except (TypeError, ValueError):
        return {"ok": False, "reason": "not_canonicalizable", "canonical_hex": None}
    return {"ok": True, "reason": None, "canonical_hex": data.hex()}


# --- signed envelopes, status statements, revocations -------------------------------------


def verify_envelope_case(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`core.signing.verify_statement`: the envelope alone, against the context's keys."""
    keys = vendor_keys(keys_file, case["context"]["keys"])
    check = verify_statement(case["envelope"], keys)
    return {"ok": check.ok, "reason": check.reason}


def verify_status_case(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`server.licensing.statements.verify_envelope` (or `verify_revocation`,
    `verify_rejection` when the context expects one), then the server's staleness rule
    (`_apply_statement`: a statement older than the one the slot holds is refused)."""
    from cssec.server.licensing.errors import UntrustedStatement  # noqa: PLC0415
    from cssec.server.licensing.statements import (  # noqa: PLC0415
        verify_envelope,
        verify_rejection,
        verify_revocation,
    )

    ctx = case["context"]
    keys = vendor_keys(keys_file, ctx["keys"])
    common: dict[str, Any] = {
        "activation_code": ctx["activation_code"],
        "server_id": ctx["server_id"],
        "product": Product(ctx["product"]),
        "nonce": ctx["nonce"],
    }
    try:
        if ctx.get("expect_rejection"):
            rejection = verify_rejection(case["envelope"], keys, **common)
            return {"ok": True, "reason": None, "state": rejection.vendor_state}
        if ctx.get("expect_revocation"):
            revocation = verify_revocation(case["envelope"], keys, **common)
            return {
                "ok": True,
                "reason": None,
                "revoked_at": revocation.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        statement = verify_envelope(case["envelope"], keys, **common)
    except UntrustedStatement as exc:
        return {"ok": False, "reason": exc.fields.get("reason")}
    last = ctx.get("last_issued_at")
    if last is not None and statement.issued_at < _parse_time(last):
        return {"ok": False, "reason": "stale_statement"}
    return {
        "ok": True,
        "reason": None,
        "state": statement.vendor_state,
        "contract_end": statement.contract_end.isoformat(),
        "grace_end": date.fromordinal(
            statement.contract_end.toordinal() + statement.grace_days
        ).isoformat(),
        "seats": statement.seats,
    }


# --- key endorsements -------------------------------------------------------------------


def verify_endorsements(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`core.signing.follow_endorsements`: which keys the chain adds to the trusted ones;
    then, when the case carries one, whether a statement verifies with the result."""
    trusted = vendor_keys(keys_file, case["context"]["trusted"])
    learned = follow_endorsements(trusted, case["endorsements"])
    verdict: Verdict = {"ok": True, "reason": None, "learned": sorted(learned)}
    probe = case.get("probe")
    if probe is not None:
        check = verify_statement(probe, {**trusted, **learned})
        verdict["probe"] = {"ok": check.ok, "reason": check.reason}
    return verdict


# --- renewal request and response files ---------------------------------------------------


def _error_reason(exc: CssecError) -> str:
    reason = exc.fields.get("reason")
    return str(reason) if reason else exc.code


def verify_request_case(case: Mapping[str, Any], _keys_file: Mapping[str, Any]) -> Verdict:
    """`core.license_files.parse_request`, what the vendor runs on a request file."""
    try:
        request = parse_request(case["file"].encode("utf-8"))
    except CssecError as exc:
        return {"ok": False, "reason": _error_reason(exc)}
    return {
        "ok": True,
        "reason": None,
        "request_sha256": request.digest,
        "server_kid": request.server_key.kid,
    }


def verify_response_case(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """What `server.licensing.offline_renewal.import_response` runs, in its order:
    `parse_response`; this server's id; the pending request by nonce and digest
    (`offline_response.find_request`: the context's `request` stands in for the server's
    table); the pinned keys plus what the response's endorsements vouch for (`vendor_keys`);
    every statement (`verify_response`, the implementation's own function)."""
    from cssec.server.licensing import offline_response  # noqa: PLC0415

    ctx = case["context"]
    try:
        response = parse_response(case["file"].encode("utf-8"))
        if response.server_id != ctx["server_id"]:
            raise offline_response.LicenseResponseWrongServer(
                expected=ctx["server_id"], actual=response.server_id[:64]
            )
        request = SimpleNamespace(**ctx["request"])
        if response.nonce[:64] != request.nonce or response.request_sha256 != (
            request.request_sha256
        ):
            raise offline_response.LicenseResponseUnknownRequest()
        pinned = vendor_keys(keys_file, ctx["pinned"])
        keys = {**pinned, **follow_endorsements(pinned, response.endorsements)}
        verified = offline_response.verify_response(
            response,
            keys,
            server_id=ctx["server_id"],
            request=request,  # type: ignore[arg-type]
        )
    except CssecError as exc:
        return {"ok": False, "reason": _error_reason(exc)}
    results = []
    for product, _code, result in verified:
        if isinstance(result, offline_response.CodeRevoked):
            results.append({"product": product.value, "state": "revoked"})
        else:
            results.append(
                {
                    "product": product.value,
                    "state": result.vendor_state,
                    "contract_end": result.contract_end.isoformat(),
                }
            )
    return {"ok": True, "reason": None, "statements": results}


# --- certificate renewals ---------------------------------------------------------------


def verify_cert_renewals(case: Mapping[str, Any], _keys_file: Mapping[str, Any]) -> Verdict:
    """`core.certs.follow_renewals`: the presented certificate when a chain of renewals
    leads to it from the pinned fingerprint."""
    ctx = case["context"]
    der = follow_renewals(ctx["pinned"], ctx["presented"], case["renewals"])
    if der is None:
        return {"ok": False, "reason": "no_chain"}
    return {"ok": True, "reason": None, "fingerprint": certificate_fingerprint(der)}


# --- install tokens ---------------------------------------------------------------------


def split_token_case(case: Mapping[str, Any], _keys_file: Mapping[str, Any]) -> Verdict:
    """`core.install_tokens.split_install_token`, and the hash the server stores and
    compares (`server.clients.enrollment`: SHA-256 hex of the secret's UTF-8)."""
    secret, fingerprint = split_install_token(case["input"])
    return {
        "ok": True,
        "reason": None,
        "secret": secret,
        "fingerprint": fingerprint,
        "secret_sha256": hashlib.sha256(secret.encode("utf-8")).hexdigest(),
    }


# --- component bundles ------------------------------------------------------------------


class _Scalars:
    def __init__(self, items: list[str]) -> None:
        self.items = items

    def all(self) -> list[str]:
        return self.items


class _Session:
    def __init__(self, codes: list[str]) -> None:
        self.codes = codes

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def scalars(self, _query: object) -> _Scalars:
        return _Scalars(self.codes)


def verify_bundle_case(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`server.updates.bundle.check_statement` (step 3 of a bundle import): the server's
    pinned keys and its slots' codes come from the context instead of its data directory."""
    from cssec.server.updates import bundle as bundle_mod  # noqa: PLC0415
    from cssec.server.updates.errors import BundleRefused  # noqa: PLC0415

    ctx = case["context"]
    pinned = SimpleNamespace(
        keys=vendor_keys(keys_file, ctx["pinned"]), endorsements=[], fingerprints=[]
    )
    env: Any = SimpleNamespace(
        data=SimpleNamespace(read_vendor_trust=lambda: pinned),
        sessionmaker=lambda: _Session(list(ctx["server_codes"])),
    )
    files = {
        "bundle.json": case["bundle_json"].encode("utf-8"),
        "keys.json": json.dumps({"keys": [], "endorsements": []}).encode(),
        "metadata/timestamp.json": base64.b64decode(case["timestamp_json_b64"]),
    }
    try:
        bundle_mod.check_statement(env, files, now=_parse_time(ctx["now"]))
    except BundleRefused as exc:
        return {"ok": False, "reason": exc.cause}
    return {"ok": True, "reason": None}


# --- ActiveUpdate manifests ------------------------------------------------------------


def verify_manifest_case(case: Mapping[str, Any], keys_file: Mapping[str, Any]) -> Verdict:
    """`core.components.verify_manifest`: the envelope, then the manifest's schema."""
    from cssec.core.components import verify_manifest  # noqa: PLC0415

    check = verify_manifest(case["envelope"], vendor_keys(keys_file, case["context"]["keys"]))
    if not check.ok or check.value is None:
        return {"ok": False, "reason": check.error, "detail": check.detail}
    manifest = check.value
    return {
        "ok": True,
        "reason": None,
        "serial": manifest.serial,
        "versions": {c.value: v.version for c, v in manifest.components.items()},
    }


# --- webhooks ---------------------------------------------------------------------------

WEBHOOK_TOLERANCE_SECONDS = 5 * 60


def verify_webhook_case(case: Mapping[str, Any], _keys_file: Mapping[str, Any]) -> Verdict:
    """What a receiver runs (`standardwebhooks.Webhook.verify`, whose signing the vendor
    uses), with the receiver's clock from the context instead of the wall clock: headers,
    timestamp within 5 minutes either way, then any `v1,` signature matching."""
    from standardwebhooks import Webhook  # noqa: PLC0415

    headers = {k.lower(): v for k, v in case["headers"].items()}
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signature = headers.get("webhook-signature")
    if not (msg_id and timestamp and signature):
        return {"ok": False, "reason": "missing_header"}
    if not (timestamp.isascii() and timestamp.isdigit()):
        return {"ok": False, "reason": "invalid_timestamp"}
    now = int(case["context"]["now"])
    if int(timestamp) < now - WEBHOOK_TOLERANCE_SECONDS:
        return {"ok": False, "reason": "timestamp_too_old"}
    if int(timestamp) > now + WEBHOOK_TOLERANCE_SECONDS:
        return {"ok": False, "reason": "timestamp_too_new"}
    at = datetime.fromtimestamp(int(timestamp)).astimezone()
    expected = Webhook(case["context"]["secret"]).sign(msg_id, at, case["body"].encode("utf-8"))
    if expected not in signature.split(" "):
        return {"ok": False, "reason": "no_matching_signature"}
    return {"ok": True, "reason": None}


VERIFIERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Verdict]] = {
    "codes": verify_code,
    "canonical_json": canonical,
    "envelopes": verify_envelope_case,
    "status_statements": verify_status_case,
    "endorsements": verify_endorsements,
    "license_requests": verify_request_case,
    "license_responses": verify_response_case,
    "cert_renewals": verify_cert_renewals,
    "install_tokens": split_token_case,
    "bundles": verify_bundle_case,
    "manifests": verify_manifest_case,
    "webhooks": verify_webhook_case,
}
"""Vector file stem → the verifier of its cases."""
