"""Air-gapped renewal by file: the request a server signs and the response the vendor returns.

A server with no route to the vendor writes a **request** (`cssec server license request`),
carried out on a USB stick; the vendor answers with a **response**
(`cssec vendor license respond`, the console, the portal) carried back and imported
(`cssec server license import`). Both sides read this module; neither trusts the bytes.

Request: a signed envelope (`core.signing.sign_statement`) with the server identity key, and
that key's JWK beside it (`public_key`), so the vendor can check the file is whole and
names the key in its answer::

    {"statement": {"v": 1, "kind": "license_request", "server_id": "...",
                   "codes": [{"product": "CS", "activation_code": "..."}],
                   "seats_used": 3, "nonce": "<urlsafe>", "created_at": "...Z"},
     "alg": "ed25519", "kid": "ed25519-...", "signature": "<b64>", "public_key": {JWK}}

Its digest (`request_digest`: SHA-256 of the canonical JSON of the four signed fields)
names it whatever whitespace the file gained on the way.

Response: not signed as a whole; each statement inside is a vendor status statement for
one code, bound to the request by the request's nonce (`nonce`, as an online check's) and
digest (`request_sha256`) and to the server by `server_id`; the server verifies every one
of them with its pinned vendor keys before anything changes. The vendor's public keys
and endorsements travel along for a server that pinned only a fingerprint at install::

    {"v": 1, "kind": "license_response", "server_id": "...", "nonce": "...",
     "request_sha256": "<64 hex>", "statements": [envelope, ...],
     "keys": [JWK, ...], "endorsements": [...]}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cssec.core.errors import CssecError, Phrase
from cssec.core.signing import (
    SigningKey,
    VerifyingKey,
    canonical_json,
    sign_statement,
    verify_statement,
)

FORMAT_VERSION = 1
REQUEST_KIND = "license_request"
RESPONSE_KIND = "license_response"
MAX_FILE_BYTES = 256 * 1024
"""Larger files are refused before parsing: a real one is a few kilobytes."""
MAX_CODES = 8
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SERVER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


# Why a renewal file was refused, for a person (`reason` stays the machine's word).
FILE_CAUSES: dict[str, tuple[str, str]] = {
    "empty": ("ファイルが空です", "the file is empty"),
    "too_large": ("ファイルが大きすぎます", "the file is too large"),
    "not_json": ("JSON形式のファイルではありません", "it is not a JSON file"),
    "malformed": ("必要な項目が欠けているか、形式が違います", "a field is missing or malformed"),
    "not_a_request": ("更新要求ファイルではありません", "it is not a renewal request file"),
    "not_a_response": ("更新応答ファイルではありません", "it is not a renewal response file"),
    "unsupported_version": (
        "このバージョンでは読めない形式です",
        "its format version is not supported",
    ),
    "no_codes": ("アクティベーションコードが含まれていません", "it holds no activation code"),
    "bad_public_key": ("公開鍵が正しくありません", "its public key is not valid"),
    "wrong_product": (
        "契約にない製品のコードが含まれています",
        "it holds a code of a product the contract does not have",
    ),
    "product_mismatch": (
        "応答の製品が要求と一致しません",
        "a product of the response does not match the request",
    ),
    "request_mismatch": (
        "このサーバが作成した更新要求への応答ではありません",
        "it does not answer a request this server made",
    ),
}
_UNVERIFIED = ("署名を検証できません", "its signature does not verify")


def file_cause(reason: object) -> Phrase:
    """A refusal reason in words; a reason from the signature check reads as one."""
    ja, en = FILE_CAUSES.get(str(reason), _UNVERIFIED)
    return Phrase(ja, en)


class _FileRefusal(CssecError):
    def __init__(self, message: str | None = None, /, **fields: Any) -> None:
        fields.setdefault("cause", file_cause(fields.get("reason")))
        super().__init__(message, **fields)


class InvalidLicenseRequest(_FileRefusal):
    """What the vendor says of a request file it cannot use."""

    code = "invalid_license_request"
    status = 400
    message_ja = (
        "ライセンス更新要求ファイルを読み取れませんでした（{cause}）。"
        "サーバで cssec server license requestを実行し直し、作成されたファイルを"
        "そのまま持ち込んでください。"
    )
    message_en = (
        "The license request file could not be used ({cause}). Run cssec server license "
        "request on the server again and bring the file it writes unchanged."
    )


class InvalidLicenseResponse(_FileRefusal):
    """What the server says of a response file it cannot use (malformed or altered)."""

    code = "invalid_license_response"
    status = 400
    message_ja = (
        "ライセンス更新応答ファイルを検証できませんでした（{cause}）。現在のライセンスは"
        "変更されていません。ライセンスサーバで作成された応答ファイルを、そのまま"
        "取り込んでください。"
    )
    message_en = (
        "The license response file could not be verified ({cause}). The current license is "
        "unchanged. Import the response file the license service wrote, unchanged."
    )


@dataclass(frozen=True)
class RequestedCode:
    product: str
    activation_code: str


@dataclass(frozen=True)
class LicenseRequestFile:
    """A request whose signature checked out against the key it carries."""

    server_id: str
    codes: tuple[RequestedCode, ...]
    seats_used: int | None
    nonce: str
    created_at: datetime
    server_key: VerifyingKey
    digest: str


@dataclass(frozen=True)
class LicenseResponseFile:
    """A response's shape; its statements are still unverified."""

    server_id: str
    nonce: str
    request_sha256: str
    statements: tuple[dict[str, Any], ...]
    keys: tuple[VerifyingKey, ...]
    endorsements: tuple[Any, ...]
    digest: str


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_digest(envelope: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of the signed fields of a request envelope."""
    signed = {k: envelope.get(k) for k in ("statement", "alg", "kid", "signature")}
    return hashlib.sha256(canonical_json(signed)).hexdigest()


def build_request(
    key: SigningKey,
    *,
    server_id: str,
    codes: Sequence[RequestedCode],
    seats_used: int | None,
    nonce: str,
    created_at: datetime,
) -> tuple[bytes, str]:
    """The request file's bytes (indented JSON) and its digest."""
    statement: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "kind": REQUEST_KIND,
        "server_id": server_id,
        "codes": [{"product": c.product, "activation_code": c.activation_code} for c in codes],
        "seats_used": seats_used,
        "nonce": nonce,
        "created_at": _utc_text(created_at),
    }
    envelope = sign_statement(statement, key)
    envelope["public_key"] = key.public.to_jwk()
    data = json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return data.encode("utf-8"), request_digest(envelope)


def _load_json(data: bytes, error: type[CssecError]) -> dict[str, Any]:
    if len(data) > MAX_FILE_BYTES:
        raise error(reason="too_large")
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise error(reason="not_json") from None
    if not isinstance(value, dict):
        raise error(reason="malformed")
    return value


def _parse_time(value: object, error: type[CssecError]) -> datetime:
    if not isinstance(value, str):
        raise error(reason="malformed")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise error(reason="malformed") from None
    if at.tzinfo is None:
        raise error(reason="malformed")
    return at.astimezone(UTC)


def _parse_codes(value: object) -> tuple[RequestedCode, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CODES:
        raise InvalidLicenseRequest(reason="no_codes")
    codes = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidLicenseRequest(reason="malformed")
        product, code = item.get("product"), item.get("activation_code")
        if not isinstance(product, str) or not isinstance(code, str):
            raise InvalidLicenseRequest(reason="malformed")
        if not 1 <= len(product) <= 8 or not 1 <= len(code) <= 64:
            raise InvalidLicenseRequest(reason="malformed")
        codes.append(RequestedCode(product, code))
    return tuple(codes)


def parse_request(data: bytes) -> LicenseRequestFile:
    """The request, or InvalidLicenseRequest naming the first flaw (never another error):
    shape, the key it carries, the signature with that key, then the fields."""
    envelope = _load_json(data, InvalidLicenseRequest)
    try:
        key = VerifyingKey.from_jwk(envelope.get("public_key") or {})
    except (ValueError, TypeError, AttributeError):
        raise InvalidLicenseRequest(reason="bad_public_key") from None
    check = verify_statement(envelope, {key.kid: key})
    if not check.ok or check.statement is None:
        raise InvalidLicenseRequest(reason=check.reason or "bad_signature")
    st = check.statement
    if st.get("kind") != REQUEST_KIND:
        raise InvalidLicenseRequest(reason="not_a_request")
    if st.get("v") != FORMAT_VERSION or type(st.get("v")) is not int:  # not true
        raise InvalidLicenseRequest(reason="unsupported_version")
    server_id, nonce, seats = st.get("server_id"), st.get("nonce"), st.get("seats_used")
    if not isinstance(server_id, str) or not _SERVER_ID.fullmatch(server_id):
        raise InvalidLicenseRequest(reason="malformed")
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise InvalidLicenseRequest(reason="malformed")
    if seats is not None and (type(seats) is not int or not 0 <= seats <= 10**7):
        raise InvalidLicenseRequest(reason="malformed")
    return LicenseRequestFile(
        server_id=server_id,
        codes=_parse_codes(st.get("codes")),
        seats_used=seats,
        nonce=nonce,
        created_at=_parse_time(st.get("created_at"), InvalidLicenseRequest),
        server_key=key,
        digest=request_digest(envelope),
    )


def build_response(
    request: LicenseRequestFile,
    statements: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[VerifyingKey],
    endorsements: Sequence[Any] = (),
) -> bytes:
    """The response file's bytes (indented JSON)."""
    body = {
        "v": FORMAT_VERSION,
        "kind": RESPONSE_KIND,
        "server_id": request.server_id,
        "nonce": request.nonce,
        "request_sha256": request.digest,
        "statements": [dict(s) for s in statements],
        "keys": [key.to_jwk() for key in keys],
        "endorsements": list(endorsements),
    }
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def parse_response(data: bytes) -> LicenseResponseFile:
    """The response's shape, or InvalidLicenseResponse; the statements are not verified here
    (the server does, with its pinned keys). `digest` names the response: the same
    statements imported twice are recognised as such."""
    body = _load_json(data, InvalidLicenseResponse)
    if body.get("kind") != RESPONSE_KIND:
        raise InvalidLicenseResponse(reason="not_a_response")
    if body.get("v") != FORMAT_VERSION or type(body.get("v")) is not int:
        raise InvalidLicenseResponse(reason="unsupported_version")
    server_id, nonce, digest = body.get("server_id"), body.get("nonce"), body.get("request_sha256")
    statements, raw_keys = body.get("statements"), body.get("keys", [])
    endorsements = body.get("endorsements", [])
    if not isinstance(server_id, str) or not isinstance(nonce, str):
        raise InvalidLicenseResponse(reason="malformed")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise InvalidLicenseResponse(reason="malformed")
    if not isinstance(statements, list) or not 1 <= len(statements) <= MAX_CODES:
        raise InvalidLicenseResponse(reason="malformed")
    if not all(isinstance(s, dict) for s in statements):
        raise InvalidLicenseResponse(reason="malformed")
    if not isinstance(raw_keys, list) or not isinstance(endorsements, list):
        raise InvalidLicenseResponse(reason="malformed")
    keys = []
    for jwk in raw_keys:
        try:
            keys.append(VerifyingKey.from_jwk(jwk))
        except (ValueError, TypeError, AttributeError):
            continue
    try:
        signed = canonical_json(statements)
    except (TypeError, ValueError):
        raise InvalidLicenseResponse(reason="malformed") from None
    return LicenseResponseFile(
        server_id=server_id,
        nonce=nonce,
        request_sha256=digest,
        statements=tuple(statements),
        keys=tuple(keys),
        endorsements=tuple(endorsements),
        digest=hashlib.sha256(signed).hexdigest(),
    )


__all__ = [
    "FORMAT_VERSION",
    "InvalidLicenseRequest",
    "InvalidLicenseResponse",
    "LicenseRequestFile",
    "LicenseResponseFile",
    "RequestedCode",
    "build_request",
    "build_response",
    "parse_request",
    "parse_response",
    "request_digest",
]
