# ruff: noqa: E501, PLR0915  (tables of cases, one per call)
"""Vectors of §3-§5 (envelopes, status_statements, endorsements) of docs/protocol.md."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from vectors_common import (
    ED,
    NONCE,
    OTHER_NONCE,
    SERVER_ID,
    Cases,
    b64,
    kid,
    pad_bits,
    raw_activation_code,
    rejection,
    resign,
    sample_codes,
    seed,
    status_statement,
)

from cssec.core.signing import endorse_key, sign_statement


def envelopes_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("envelopes", keys)
    cs, _dcs = sample_codes()
    base = sign_statement(status_statement(code=cs), ED["vendor-1"])
    ctx = {"keys": [kid("vendor-1"), kid("vendor-2")]}

    def variant(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        env = copy.deepcopy(base)
        change(env)
        return env

    c.add("valid", "a status statement signed by vendor-1", None, envelope=base, context=ctx)
    c.add("valid-rotated-key", "signed by vendor-2, also trusted", None,
          envelope=resign(base, "vendor-2"), context=ctx)  # fmt: skip
    c.add("valid-extra-top-level-field", "unknown top-level fields are not signed and ignored",
          None, envelope=variant(lambda e: e.update(note="ignored")), context=ctx)  # fmt: skip
    c.add("not-an-object", "an array", "malformed_envelope", envelope=[base], context=ctx)
    c.add("alg-missing", "no alg", "unsupported_alg",
          envelope=variant(lambda e: e.pop("alg")), context=ctx)  # fmt: skip
    for alg in ("none", "EdDSA", "HS256", "ED25519"):
        c.add(f"alg-{alg.lower()}", f"alg {alg!r} is not in the allow-list", "unsupported_alg",
              envelope=variant(lambda e, a=alg: e.update(alg=a)), context=ctx)  # fmt: skip
    c.add("kid-not-string", "kid is a number", "malformed_envelope",
          envelope=variant(lambda e: e.update(kid=1)), context=ctx)  # fmt: skip
    c.add("kid-unknown", "signed by a key the verifier does not hold", "unknown_kid",
          envelope=resign(base, "outsider"), context=ctx)  # fmt: skip
    c.add("kid-swapped", "kid names vendor-2, signature is vendor-1's", "bad_signature",
          envelope=variant(lambda e: e.update(kid=kid("vendor-2"))), context=ctx)  # fmt: skip
    c.add("statement-not-object", "statement is a string", "malformed_statement",
          envelope=variant(lambda e: e.update(statement="{}")), context=ctx)  # fmt: skip
    c.add("statement-missing", "no statement", "malformed_statement",
          envelope=variant(lambda e: e.pop("statement")), context=ctx)  # fmt: skip
    c.add("signature-missing", "no signature", "malformed_signature",
          envelope=variant(lambda e: e.pop("signature")), context=ctx)  # fmt: skip
    c.add("signature-not-base64", "a character outside standard base64", "malformed_signature",
          envelope=variant(lambda e: e.update(signature="*" + e["signature"][1:])),
          context=ctx)  # fmt: skip
    c.add("signature-urlsafe-alphabet", "'-' and '_' are refused", "malformed_signature",
          envelope=variant(lambda e: e.update(
              signature=b64(b"\xfb\xff" * 32).replace("+", "-").replace("/", "_"))),
          context=ctx)  # fmt: skip
    c.add("signature-whitespace", "a line break inside the base64", "malformed_signature",
          envelope=variant(lambda e: e.update(
              signature=e["signature"][:40] + "\n" + e["signature"][40:])),
          context=ctx)  # fmt: skip
    c.add("signature-short", "63 bytes", "malformed_signature",
          envelope=variant(lambda e: e.update(signature=b64(bytes(63)))), context=ctx)  # fmt: skip
    c.add("signature-unpadded", "base64 without its padding", "malformed_signature",
          envelope=variant(lambda e: e.update(signature=e["signature"].rstrip("="))),
          context=ctx)  # fmt: skip
    c.add("signature-nonzero-pad-bits",
          "unused bits of the last base64 character set: the same 64 bytes, accepted", None,
          envelope=variant(lambda e: e.update(signature=pad_bits(e["signature"]))),
          context=ctx)  # fmt: skip
    c.add("tampered-field", "seats changed after signing", "bad_signature",
          envelope=variant(lambda e: e["statement"].update(seats=250)), context=ctx)  # fmt: skip
    c.add("tampered-added-field", "a field added to the statement", "bad_signature",
          envelope=variant(lambda e: e["statement"].update(extra=True)), context=ctx)  # fmt: skip
    c.add("tampered-signature-bit", "one bit of the signature flipped", "bad_signature",
          envelope=variant(lambda e: e.update(signature=b64(bytes(
              [base64.b64decode(e["signature"])[0] ^ 1])
              + base64.b64decode(e["signature"])[1:]))), context=ctx)  # fmt: skip
    c.add("statement-lone-surrogate", "a string that has no UTF-8 form",
          "malformed_statement",
          envelope=variant(lambda e: e["statement"].update(customer="\udc00")),
          context=ctx)  # fmt: skip
    non_ascii = sign_statement(
        {"v": 1, "kind": "vectors", "text": "株式会社\u2028\U0001f600", "\U0001f600": 1,
         "\ue000": 2}, ED["vendor-1"])  # fmt: skip
    c.add("valid-non-ascii", "non-ASCII values and keys (code point key order)", None,
          envelope=non_ascii, context=ctx)  # fmt: skip
    return {
        "description": (
            "Signed envelopes {statement, alg, kid, signature} checked alone "
            "(core.signing.verify_statement): context.keys lists the kids the verifier holds "
            "(keys.json)."
        ),
        "cases": c.items,
    }


def status_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("status_statements", keys)
    cs, dcs = sample_codes()
    ctx = {
        "keys": [kid("vendor-1")],
        "activation_code": cs,
        "server_id": SERVER_ID,
        "product": "CS",
        "nonce": NONCE,
    }

    def add(case_id: str, description: str, intent: Any, statement: dict[str, Any],
            label: str = "vendor-1", **context: Any) -> None:  # fmt: skip
        c.add(case_id, description, intent, envelope=sign_statement(statement, ED[label]),
              context={**ctx, **context})  # fmt: skip

    add("valid-activated", "activated, bound to this code, server and nonce", None,
        status_statement(code=cs))  # fmt: skip
    add("valid-grace", "contract ended 10 days ago: grace_period", None,
        status_statement(code=cs, state="grace_period", contract_end=date(2026, 11, 27)))  # fmt: skip
    add("valid-expired", "past grace: still a valid statement, state expired", None,
        status_statement(code=cs, state="expired", contract_end=date(2026, 1, 31)))  # fmt: skip
    add("valid-dcs", "the DCS slot", None, status_statement(code=dcs, product="DCS"),
        activation_code=dcs, product="DCS")  # fmt: skip
    add("valid-not-stale", "issued at the same second as the slot's statement", None,
        status_statement(code=cs), last_issued_at="2026-12-07T12:00:00Z")  # fmt: skip
    add("wrong-nonce", "the nonce of another request (a replay)", "nonce_mismatch",
        status_statement(code=cs, nonce=OTHER_NONCE))  # fmt: skip
    add("nonce-missing", "a statement with no nonce where one was sent", "nonce_missing",
        status_statement(code=cs, nonce=None))  # fmt: skip
    st = status_statement(code=cs)
    add("nonce-null", "nonce present but null", "nonce_mismatch", {**st, "nonce": None})
    add("unsupported-version", "v 2", "unsupported_statement_version", {**st, "v": 2})
    add("other-code", "about another code", "activation_code_mismatch",
        status_statement(code=dcs, product="DCS"))  # fmt: skip
    add("other-server", "for another server", "server_id_mismatch",
        {**st, "server_id": "srv-other"})  # fmt: skip
    add("other-product", "product DCS for the CS slot", "product_mismatch",
        {**st, "product": "DCS"})  # fmt: skip
    add("unknown-kid", "signed by a key not pinned", "unknown_kid", st, label="vendor-2")
    add("bad-contract-end", "contract_end is not a date", "malformed_statement",
        {**st, "contract_end": "2027-13-01"})  # fmt: skip
    add("negative-grace", "grace_days -1", "malformed_statement", {**st, "grace_days": -1})
    add("huge-grace", "grace_days 3651", "malformed_statement", {**st, "grace_days": 3651})
    add("zero-seats", "seats 0", "malformed_statement", {**st, "seats": 0})
    add("seats-string", 'seats "25"', "malformed_statement", {**st, "seats": "25"})
    add("issued-at-naive", "issued_at without a time zone", "malformed_statement",
        {**st, "issued_at": "2026-12-07T12:00:00"})  # fmt: skip
    add("unknown-version-type", "version_type trial", "malformed_statement",
        {**st, "version_type": "trial"})  # fmt: skip
    add("missing-state", "no state", "malformed_statement",
        {k: v for k, v in st.items() if k != "state"})  # fmt: skip
    add("stale", "older than the statement the slot already holds", "stale_statement",
        st, last_issued_at="2026-12-07T12:00:01Z")  # fmt: skip
    tampered = sign_statement(st, ED["vendor-1"])
    tampered["statement"]["contract_end"] = "2099-12-31"
    c.add("tampered-contract-end", "contract end moved after signing", "bad_signature",
          envelope=tampered, context=ctx)  # fmt: skip
    # Revocations: the same statement, state "revoked" and revoked_at.
    revoked_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    rev = status_statement(code=cs, revoked_at=revoked_at)
    add("revocation-valid", "the vendor's signed word that the code was revoked", None, rev,
        expect_revocation=True)  # fmt: skip
    add("revocation-not-revoked", "a plain statement offered as a revocation",
        "not_a_revocation", st, expect_revocation=True)  # fmt: skip
    add("revocation-no-revoked-at", "state revoked without revoked_at", "malformed_statement",
        {k: v for k, v in rev.items() if k != "revoked_at"}, expect_revocation=True)  # fmt: skip
    add("revocation-naive-revoked-at", "revoked_at without a time zone", "malformed_statement",
        {**rev, "revoked_at": "2026-12-01T09:30:00"}, expect_revocation=True)  # fmt: skip
    add("revocation-replayed", "a revocation captured for another request", "nonce_mismatch",
        {**rev, "nonce": OTHER_NONCE}, expect_revocation=True)  # fmt: skip
    add("revocation-other-server", "a revocation for another server", "server_id_mismatch",
        {**rev, "server_id": "srv-other"}, expect_revocation=True)  # fmt: skip
    add("revocation-forged", "signed by a key not pinned", "unknown_kid", rev,
        label="outsider", expect_revocation=True)  # fmt: skip
    # Rejections: the vendor's signed "not a code we issued" (state invalid), no contract.
    forged = raw_activation_code(serial=999, secret=seed("not-the-vendor"))
    rej = rejection(forged)
    rctx = {"activation_code": forged, "expect_rejection": True}
    add("rejection-valid", "a well-formed code the vendor did not issue", None, rej, **rctx)
    add("rejection-unknown-state", "state unknown is a rejection too", None,
        {**rej, "state": "unknown"}, **rctx)  # fmt: skip
    add("rejection-not-rejected", "a plain statement offered as a rejection",
        "not_a_rejection", st, expect_rejection=True)  # fmt: skip
    add("rejection-replayed", "a rejection captured for another request", "nonce_mismatch",
        {**rej, "nonce": OTHER_NONCE}, **rctx)  # fmt: skip
    add("rejection-other-code", "a rejection of another code", "activation_code_mismatch",
        rej, expect_rejection=True)  # fmt: skip
    add("rejection-no-issued-at", "without issued_at", "malformed_statement",
        {k: v for k, v in rej.items() if k != "issued_at"}, **rctx)  # fmt: skip
    add("rejection-forged", "signed by a key not pinned", "unknown_kid", rej,
        label="outsider", **rctx)  # fmt: skip
    c.add("rejection-not-object", "the refusal's proof is not an object",
          "malformed_statement", envelope="signed", context={**ctx, **rctx})  # fmt: skip
    c.add("revocation-not-object", "the refusal's proof is not an object",
          "malformed_statement", envelope=[], context={**ctx, "expect_revocation": True})  # fmt: skip
    return {
        "description": (
            "Status statements, revocations and rejections as a server checks them "
            "(server.licensing.statements): the envelope, then the binding to the request "
            "(context: the code and product of the slot, this server's id, the nonce it "
            "sent, the kids it pinned; last_issued_at: the issued_at of the statement the "
            "slot already holds). expect_revocation / expect_rejection: the answer is a "
            "refusal that carries a revocation (state revoked) or a rejection (state invalid "
            "or unknown)."
        ),
        "cases": c.items,
    }


# --- endorsements.json ------------------------------------------------------------------


def endorsements_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("endorsements", keys)
    at1, at2 = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    e12 = endorse_key(ED["vendor-2"].public, ED["vendor-1"], at=at1)
    e23 = endorse_key(ED["vendor-3"].public, ED["vendor-2"], at=at2)
    probe = sign_statement({"v": 1, "kind": "probe", "signed_by": "vendor-3"}, ED["vendor-3"])
    trusted1 = {"trusted": [kid("vendor-1")]}

    def learned(*labels: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["learned"] == sorted(kid(x) for x in labels)

    c.add("chain-in-order", "vendor-1 → vendor-2 → vendor-3", learned("vendor-2", "vendor-3"),
          endorsements=[e12, e23], context=trusted1, probe=probe)  # fmt: skip
    c.add("chain-any-order", "the same chain listed newest first",
          learned("vendor-2", "vendor-3"), endorsements=[e23, e12], context=trusted1,
          probe=probe)  # fmt: skip
    c.add("chain-broken", "the middle link missing: vendor-3 is not reachable", learned(),
          endorsements=[e23], context=trusted1, probe=probe)  # fmt: skip
    c.add("chain-from-middle", "trusting vendor-2 already", learned("vendor-3"),
          endorsements=[e12, e23], context={"trusted": [kid("vendor-2")]})  # fmt: skip
    bad = copy.deepcopy(e12)
    bad["statement"]["endorsed_at"] = "2026-06-02T00:00:00Z"
    c.add("link-tampered", "the first link altered after signing", learned(),
          endorsements=[bad, e23], context=trusted1, probe=probe)  # fmt: skip
    by_outsider = endorse_key(ED["vendor-3"].public, ED["outsider"], at=at2)
    c.add("link-untrusted-signer", "vendor-3 vouched for by a key nobody trusts", learned(),
          endorsements=[by_outsider], context=trusted1, probe=probe)  # fmt: skip
    wrong_kind = copy.deepcopy(e12["statement"])
    wrong_kind["kind"] = "status"
    c.add("link-wrong-kind", "a signed statement of another kind carrying a JWK", learned(),
          endorsements=[sign_statement(wrong_kind, ED["vendor-1"])], context=trusted1)  # fmt: skip
    with_d = copy.deepcopy(e12["statement"])
    with_d["jwk"]["d"] = base64.urlsafe_b64encode(bytes(32)).rstrip(b"=").decode()
    c.add("link-private-jwk", "the endorsed JWK carries a private part", learned(),
          endorsements=[sign_statement(with_d, ED["vendor-1"])], context=trusted1)  # fmt: skip
    kid_lie = copy.deepcopy(e12["statement"])
    kid_lie["jwk"]["kid"] = kid("vendor-3")
    c.add("link-jwk-kid-mismatch", "the JWK's kid is not its key's", learned(),
          endorsements=[sign_statement(kid_lie, ED["vendor-1"])], context=trusted1)  # fmt: skip
    bad_alg = copy.deepcopy(e12["statement"])
    bad_alg["jwk"]["alg"] = "ES256"
    c.add("link-jwk-alg", "the JWK's alg is not EdDSA", learned(),
          endorsements=[sign_statement(bad_alg, ED["vendor-1"])], context=trusted1)  # fmt: skip
    c.add("link-garbage", "entries that are not envelopes are skipped", learned("vendor-2"),
          endorsements=[None, "x", [], {"statement": {}}, e12], context=trusted1)  # fmt: skip
    return {
        "description": (
            "Vendor key rotation (core.signing.endorse_key / follow_endorsements): from the "
            "context's trusted kids, which keys the endorsements add (expect.learned, sorted "
            "kids); probe: a statement signed by vendor-3, checked with trusted + learned."
        ),
        "cases": c.items,
    }
