# ruff: noqa: E501, PLC0415  (tables of cases, one per call; imports kept near their one use)
"""Vectors of §6 (license_requests, license_responses) and §9 (bundles, manifests)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vectors_common import (
    ED,
    NONCE,
    NOW,
    OTHER_NONCE,
    SERVER_ID,
    Cases,
    b64,
    edit_json,
    file_text,
    kid,
    raw_activation_code,
    request_file,
    sample_codes,
    status_statement,
)

from cssec.core.license_files import (
    build_response,
    parse_request,
)
from cssec.core.signing import endorse_key, sign_statement


def requests_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("license_requests", keys)
    text, digest = request_file()
    c.add("valid", "a request for CS and DCS, 3 clients in use",
          lambda v: v["ok"] and v["request_sha256"] == digest, file=text)  # fmt: skip
    c.add("valid-reformatted", "whitespace changed on the way: same digest",
          lambda v: v["ok"] and v["request_sha256"] == digest,
          file=json.dumps(json.loads(text), separators=(",", ":")))  # fmt: skip
    c.add("valid-bom", "saved with a UTF-8 byte order mark",
          lambda v: v["ok"] and v["request_sha256"] == digest, file="\ufeff" + text)  # fmt: skip
    c.add("not-json", "not JSON", "not_json", file=text[:-20])
    c.add("tampered-seats", "seats_used changed after signing", "bad_signature",
          file=edit_json(text, lambda b: b["statement"].update(seats_used=1)))  # fmt: skip
    c.add("key-swapped", "public_key replaced by another key", "unknown_kid",
          file=edit_json(text, lambda b: b.update(public_key=ED["server-2"].public.to_jwk())))  # fmt: skip
    c.add("key-missing", "no public_key", "bad_public_key",
          file=edit_json(text, lambda b: b.pop("public_key")))  # fmt: skip
    c.add("key-private", "public_key carries a private part", "bad_public_key",
          file=edit_json(text, lambda b: b["public_key"].update(d="AAAA")))  # fmt: skip

    def signed_variant(change: Callable[[dict[str, Any]], None]) -> str:
        body = json.loads(text)
        statement = body["statement"]
        change(statement)
        envelope = sign_statement(statement, ED["server-1"])
        envelope["public_key"] = ED["server-1"].public.to_jwk()
        return file_text(envelope)

    c.add("not-a-request", "signed, but kind license_response", "not_a_request",
          file=signed_variant(lambda s: s.update(kind="license_response")))  # fmt: skip
    c.add("unsupported-version", "v 2", "unsupported_version",
          file=signed_variant(lambda s: s.update(v=2)))  # fmt: skip
    c.add("short-nonce", "a nonce of 15 characters", "malformed",
          file=signed_variant(lambda s: s.update(nonce="abcdefghijklmno")))  # fmt: skip
    c.add("bad-server-id", "a server id with a space", "malformed",
          file=signed_variant(lambda s: s.update(server_id="srv 1")))  # fmt: skip
    c.add("no-codes", "an empty code list", "no_codes",
          file=signed_variant(lambda s: s.update(codes=[])))  # fmt: skip
    c.add("naive-created-at", "created_at without a time zone", "malformed",
          file=signed_variant(lambda s: s.update(created_at="2026-12-07T09:00:00")))  # fmt: skip
    return {
        "description": (
            "Air-gapped renewal requests (core.license_files.parse_request), what the vendor "
            "checks; expect.request_sha256: the digest a response must name."
        ),
        "cases": c.items,
    }


def responses_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("license_responses", keys)
    cs, dcs = sample_codes()
    text, digest = request_file()
    request = parse_request(text.encode())

    def statement(code: str, product: str, **kw: Any) -> dict[str, Any]:
        st = status_statement(code=code, product=product, **kw)
        st["request_sha256"] = digest
        return st

    def response(envelopes: list[dict[str, Any]], **kw: Any) -> str:
        data = build_response(request, envelopes, keys=[ED["vendor-1"].public], **kw)
        return data.decode("utf-8")

    st_cs, st_dcs = statement(cs, "CS"), statement(dcs, "DCS")
    good = [sign_statement(st_cs, ED["vendor-1"]), sign_statement(st_dcs, ED["vendor-1"])]
    ctx = {
        "server_id": SERVER_ID,
        "pinned": [kid("vendor-1")],
        "request": {
            "nonce": NONCE,
            "request_sha256": digest,
            "codes": [{"product": "CS", "activation_code": cs},
                      {"product": "DCS", "activation_code": dcs}],
        },
    }  # fmt: skip
    c.add("valid", "both codes renewed", None, file=response(good), context=ctx)
    revoked = statement(cs, "CS", revoked_at=datetime(2026, 12, 1, tzinfo=UTC))
    c.add("valid-with-revocation", "CS revoked, DCS renewed",
          lambda v: v["ok"] and v["statements"][0]["state"] == "revoked",
          file=response([sign_statement(revoked, ED["vendor-1"]), good[1]]), context=ctx)  # fmt: skip
    e12 = endorse_key(ED["vendor-2"].public, ED["vendor-1"], at=datetime(2026, 6, 1, tzinfo=UTC))
    c.add("valid-rotated", "signed by vendor-2, which vendor-1 (pinned) endorsed in the file",
          None, file=response([sign_statement(st_cs, ED["vendor-2"])], endorsements=[e12]),
          context=ctx)  # fmt: skip
    c.add("rotated-without-endorsement", "signed by vendor-2, no endorsement", "unknown_kid",
          file=response([sign_statement(st_cs, ED["vendor-2"])]), context=ctx)  # fmt: skip
    c.add("not-json", "truncated", "not_json", file=response(good)[:-30], context=ctx)
    c.add("not-a-response", "a request file imported as a response", "not_a_response",
          file=text, context=ctx)  # fmt: skip
    c.add("unsupported-version", "v 2", "unsupported_version",
          file=edit_json(response(good), lambda b: b.update(v=2)), context=ctx)  # fmt: skip
    c.add("digest-not-hex", "request_sha256 in upper case", "malformed",
          file=edit_json(response(good), lambda b: b.update(
              request_sha256=b["request_sha256"].upper())), context=ctx)  # fmt: skip
    c.add("keys-not-list", "keys is an object", "malformed",
          file=edit_json(response(good), lambda b: b.update(keys={})), context=ctx)  # fmt: skip
    c.add("keys-absent", "no keys and no endorsements: they default to empty", None,
          file=edit_json(response(good), lambda b: [b.pop("keys"), b.pop("endorsements")]),
          context=ctx)  # fmt: skip
    c.add("no-statements", "an empty statement list", "malformed",
          file=edit_json(response(good), lambda b: b.update(statements=[])), context=ctx)  # fmt: skip
    c.add("other-server", "the response names another server", "license_response_wrong_server",
          file=response(good), context={**ctx, "server_id": "srv-other"})  # fmt: skip
    c.add("unknown-request", "no pending request has this nonce",
          "license_response_unknown_request", file=response(good),
          context={**ctx, "request": {**ctx["request"], "nonce": OTHER_NONCE}})  # fmt: skip
    c.add("unknown-request-digest", "the nonce matches but the digest does not",
          "license_response_unknown_request",
          file=edit_json(response(good), lambda b: b.update(request_sha256="0" * 64)),
          context=ctx)  # fmt: skip
    other_product = statement(cs, "CS")
    other_product["product"] = "XX"
    c.add("unrequested-product", "a statement for a product the request did not name",
          "product_mismatch",
          file=response([sign_statement(other_product, ED["vendor-1"])]), context=ctx)  # fmt: skip
    unbound = status_statement(code=cs)
    c.add("statement-not-bound", "a statement without request_sha256 (from an online check)",
          "request_mismatch", file=response([sign_statement(unbound, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-wrong-nonce", "a statement bound to another nonce", "nonce_mismatch",
          file=response([sign_statement({**st_cs, "nonce": OTHER_NONCE}, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-wrong-code", "the CS statement names the DCS code",
          "activation_code_mismatch",
          file=response([sign_statement({**st_cs, "activation_code": dcs}, ED["vendor-1"])]),
          context=ctx)  # fmt: skip
    c.add("statement-tampered", "contract_end moved in the file", "bad_signature",
          file=edit_json(response(good), lambda b: b["statements"][0]["statement"].update(
              contract_end="2099-12-31")), context=ctx)  # fmt: skip
    c.add("statement-forged", "signed by a key the server does not trust", "unknown_kid",
          file=response([sign_statement(st_cs, ED["outsider"])]), context=ctx)  # fmt: skip
    c.add("second-statement-bad", "the first statement is fine, the second is not: nothing "
          "is applied", "bad_signature",
          file=edit_json(response(good), lambda b: b["statements"][1]["statement"].update(
              seats=99)), context=ctx)  # fmt: skip
    return {
        "description": (
            "Air-gapped renewal responses as a server imports them "
            "(server.licensing.offline_renewal.import_response): context.request is the "
            "pending request the server remembers (its nonce, digest and codes); "
            "context.pinned the vendor kids it pinned."
        ),
        "cases": c.items,
    }


# --- bundles.json -----------------------------------------------------------------------


def bundles_file(keys: dict[str, Any]) -> dict[str, Any]:
    c = Cases("bundles", keys)
    cs, dcs = sample_codes()
    timestamp_json = b'{"signed":{"_type":"timestamp","version":7}}'

    def bundle(label: str = "vendor-1", **changes: Any) -> str:
        statement = {
            "v": 1,
            "kind": "component_bundle",
            "codes": sorted(hashlib.sha256(x.encode()).hexdigest() for x in (cs, dcs)),
            "contract_end": "2027-12-31",
            "grace_end": "2028-01-30",
            "issued_at": "2026-12-06T12:00:00Z",
            "serial": 12,
            "timestamp_version": 7,
            "timestamp_sha256": hashlib.sha256(timestamp_json).hexdigest(),
            **changes,
        }
        from cssec.core.signing import canonical_json

        return canonical_json(sign_statement(statement, ED[label])).decode()

    ctx = {"pinned": [kid("vendor-1")], "server_codes": [cs], "now": "2026-12-07T12:00:00Z"}
    ts = b64(timestamp_json)
    c.add("valid", "made yesterday for this site", None, bundle_json=bundle(),
          timestamp_json_b64=ts, context=ctx)  # fmt: skip
    c.add("valid-29-days", "made 30 days ago to the second", None,
          bundle_json=bundle(issued_at="2026-11-07T12:00:00Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("too-old", "made 30 days and 1 second ago", "bundle_too_old",
          bundle_json=bundle(issued_at="2026-11-07T11:59:59Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("future-within-skew", "10 minutes ahead", None,
          bundle_json=bundle(issued_at="2026-12-07T12:10:00Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("future", "10 minutes and 1 second ahead", "bad_bundle",
          bundle_json=bundle(issued_at="2026-12-07T12:10:01Z"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("other-site", "for another contract's codes", "other_site",
          bundle_json=bundle(), timestamp_json_b64=ts,
          context={**ctx, "server_codes": [raw_activation_code(serial=1)]})  # fmt: skip
    c.add("wrong-timestamp", "timestamp.json is not the one bundle.json names", "bad_bundle",
          bundle_json=bundle(), timestamp_json_b64=b64(timestamp_json + b" "),
          context=ctx)  # fmt: skip
    c.add("forged", "signed by a key the server does not trust", "bad_bundle",
          bundle_json=bundle("outsider"), timestamp_json_b64=ts, context=ctx)  # fmt: skip
    c.add("wrong-kind", "a signed statement of another kind", "bad_bundle",
          bundle_json=bundle(kind="activeupdate_manifest"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    c.add("naive-issued-at", "issued_at without a time zone", "bad_bundle",
          bundle_json=bundle(issued_at="2026-12-06T12:00:00"), timestamp_json_b64=ts,
          context=ctx)  # fmt: skip
    return {
        "description": (
            "bundle.json of a component bundle (server.updates.bundle.check_statement, step 3 "
            "of an import): context.server_codes are the canonical codes of the server's "
            "slots; context.now the server's clock. The TUF metadata that follows is checked "
            "by the TUF specification and is not part of these vectors."
        ),
        "cases": c.items,
    }


# --- manifests.json ---------------------------------------------------------------------


def manifests_file(keys: dict[str, Any]) -> dict[str, Any]:
    from cssec.core.components import ComponentVersion, Manifest
    from cssec.core.policy import Component

    c = Cases("manifests", keys)
    published = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    manifest = Manifest(
        serial=12,
        issued_at=NOW,
        components={
            comp: ComponentVersion(
                comp, i + 3, hashlib.sha256(comp.value.encode()).hexdigest(), 1000 + i, published
            )
            for i, comp in enumerate(Component)
        },
    )
    base = manifest.to_statement()
    ctx = {"keys": [kid("vendor-1")]}

    def signed(change: Callable[[dict[str, Any]], None] | None = None, label: str = "vendor-1"
               ) -> dict[str, Any]:  # fmt: skip
        statement = copy.deepcopy(base)
        if change is not None:
            change(statement)
        return sign_statement(statement, ED[label])

    def entry(name: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
        return lambda st: st["components"][name].update(fields)

    def drop(name: str, field: str) -> Callable[[dict[str, Any]], None]:
        return lambda st: st["components"][name].pop(field)

    def fails(reason: str, detail: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: v["reason"] == reason and v["detail"] == detail

    c.add("valid", "the four components, signed", None, envelope=signed(), context=ctx)
    c.add("valid-unknown-fields", "an unknown field and an unknown component are ignored",
          None, envelope=signed(lambda st: st.update(note="x") or st["components"].update(
              extra_component={"version": 1})), context=ctx)  # fmt: skip
    c.add("forged", "signed by a key not held", fails("unknown_kid", "signature"),
          envelope=signed(label="outsider"), context=ctx)  # fmt: skip
    tampered = signed()
    tampered["statement"]["components"]["virus_pattern"]["sha256"] = "0" * 64
    c.add("tampered-sha256", "a file's hash replaced after signing",
          fails("bad_signature", "signature"), envelope=tampered, context=ctx)  # fmt: skip
    c.add("version-2", "v 2", fails("unsupported_format", "v"),
          envelope=signed(lambda st: st.update(v=2)), context=ctx)  # fmt: skip
    c.add("version-true", "v true is not the integer 1", fails("unsupported_format", "v"),
          envelope=signed(lambda st: st.update(v=True)), context=ctx)  # fmt: skip
    c.add("wrong-kind", "a status statement's kind", fails("wrong_kind", "kind"),
          envelope=signed(lambda st: st.update(kind="status")), context=ctx)  # fmt: skip
    c.add("serial-missing", "no serial", fails("missing_field", "serial"),
          envelope=signed(lambda st: st.pop("serial")), context=ctx)  # fmt: skip
    c.add("serial-negative", "serial -1", fails("bad_field", "serial"),
          envelope=signed(lambda st: st.update(serial=-1)), context=ctx)  # fmt: skip
    c.add("issued-at-naive", "issued_at without an offset", fails("bad_field", "issued_at"),
          envelope=signed(lambda st: st.update(issued_at="2026-12-07T12:00:00")),
          context=ctx)  # fmt: skip
    c.add("components-not-object", "components is a list", fails("bad_field", "components"),
          envelope=signed(lambda st: st.update(components=[])), context=ctx)  # fmt: skip
    c.add("component-missing", "no spyware_pattern",
          fails("missing_component", "components.spyware_pattern"),
          envelope=signed(lambda st: st["components"].pop("spyware_pattern")),
          context=ctx)  # fmt: skip
    c.add("sha256-upper-case", "sha256 in upper case",
          fails("bad_field", "components.virus_pattern.sha256"),
          envelope=signed(entry("virus_pattern", sha256="A" * 64)), context=ctx)  # fmt: skip
    c.add("sha256-missing", "an entry without sha256",
          fails("missing_field", "components.scan_engine.sha256"),
          envelope=signed(drop("scan_engine", "sha256")), context=ctx)  # fmt: skip
    c.add("version-zero", "component version 0",
          fails("bad_field", "components.damage_cleanup_template.version"),
          envelope=signed(entry("damage_cleanup_template", version=0)), context=ctx)  # fmt: skip
    c.add("size-too-large", "a 256 MiB + 1 file",
          fails("bad_field", "components.virus_pattern.size"),
          envelope=signed(entry("virus_pattern", size=268435457)), context=ctx)  # fmt: skip
    c.add("size-boolean", "size true", fails("bad_field", "components.virus_pattern.size"),
          envelope=signed(entry("virus_pattern", size=True)), context=ctx)  # fmt: skip
    c.add("published-at-missing", "an entry without published_at",
          fails("missing_field", "components.scan_engine.published_at"),
          envelope=signed(drop("scan_engine", "published_at")), context=ctx)  # fmt: skip
    c.add("first-bad-field-wins", "two bad fields: the first in the documented order",
          fails("bad_field", "components.virus_pattern.sha256"),
          envelope=signed(lambda st: st["components"]["virus_pattern"].update(
              sha256="x", version=0)), context=ctx)  # fmt: skip
    return {
        "description": (
            "ActiveUpdate manifests (core.components.verify_manifest): the envelope, then the "
            "schema; expect.detail names the field (signature for an envelope refusal)."
        ),
        "cases": c.items,
    }
