"""The air-gapped renewal file formats: round trips, every altered byte of a signed request
caught, and no input crashes either parser."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssec.core.license_files import (
    InvalidLicenseRequest,
    InvalidLicenseResponse,
    RequestedCode,
    build_request,
    build_response,
    parse_request,
    parse_response,
)
from cssec.core.signing import SigningKey, sign_statement

KEY = SigningKey.generate()
VENDOR = SigningKey.generate()
AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
CODES = (RequestedCode("CS", "CS200697SW0000010VR62K0F0G1STRY"),)

nonces = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                 min_size=16, max_size=64)  # fmt: skip


def _request(nonce: str = "n" * 24, seats: int | None = 3) -> bytes:
    data, _digest = build_request(
        KEY, server_id="srv-1", codes=CODES, seats_used=seats, nonce=nonce, created_at=AT
    )
    return data


@given(nonce=nonces, seats=st.none() | st.integers(0, 10**6))
def test_request_round_trip(nonce: str, seats: int | None) -> None:
    data, digest = build_request(
        KEY, server_id="srv-1", codes=CODES, seats_used=seats, nonce=nonce, created_at=AT
    )
    parsed = parse_request(data)
    assert (parsed.nonce, parsed.seats_used, parsed.codes) == (nonce, seats, CODES)
    assert parsed.server_key == KEY.public
    assert parsed.digest == digest
    assert parsed.created_at == AT
    # Whitespace gained on the way changes nothing, not even the digest.
    assert parse_request(json.dumps(json.loads(data)).encode()).digest == digest


def test_every_altered_byte_of_the_signed_part_is_caught() -> None:
    data = _request()
    body = json.loads(data)
    signed = json.dumps(body["statement"], sort_keys=True)
    for index in range(len(signed)):
        for replacement in ("0", "x"):
            if signed[index] == replacement:
                continue
            altered = signed[:index] + replacement + signed[index + 1 :]
            try:
                statement = json.loads(altered)
            except ValueError:
                continue
            if statement == body["statement"]:
                continue
            with pytest.raises(InvalidLicenseRequest):
                parse_request(json.dumps(dict(body, statement=statement)).encode())


def test_a_request_signed_by_another_key_is_refused() -> None:
    body = json.loads(_request())
    body["public_key"] = SigningKey.generate().public.to_jwk()
    with pytest.raises(InvalidLicenseRequest) as refused:
        parse_request(json.dumps(body).encode())
    assert refused.value.fields["reason"] == "unknown_kid"


def test_response_round_trip() -> None:
    request = parse_request(_request())
    statement = sign_statement({"v": 1, "nonce": request.nonce}, VENDOR)
    data = build_response(request, [statement], keys=[VENDOR.public])
    parsed = parse_response(data)
    assert parsed.nonce == request.nonce
    assert parsed.request_sha256 == request.digest
    assert parsed.statements == (statement,)
    assert parsed.keys == (VENDOR.public,)
    assert parse_response(json.dumps(json.loads(data)).encode()).digest == parsed.digest


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_no_bytes_crash_the_parsers(data: bytes) -> None:
    with pytest.raises(InvalidLicenseRequest):
        parse_request(data)
    with pytest.raises(InvalidLicenseResponse):
        parse_response(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300)
@given(json_values)
def test_no_json_crashes_the_parsers(value: object) -> None:
    data = json.dumps(value).encode()
    with pytest.raises(InvalidLicenseRequest):
        parse_request(data)
    with contextlib.suppress(InvalidLicenseResponse):
        parse_response(data)
