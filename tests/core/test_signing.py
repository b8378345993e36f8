"""Signed status statements: round trip, every tampering caught, hostile input never raises."""

from __future__ import annotations

import base64
import copy
import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from cssec.core.signing import (
    ALLOWED_ALGS,
    SigningKey,
    StatementError,
    VerifyingKey,
    canonical_json,
    endorse_key,
    follow_endorsements,
    load_or_create_signing_key,
    sign_statement,
    verify_statement,
    write_secret_file,
)

STATEMENT: dict[str, Any] = {
    "product": "CS",
    "state": "activated",
    "contract_end": "2026-03-31",
    "grace_end": "2026-04-30",
    "seats": 25,
    "issued_at": "2025-06-01T00:00:00Z",
    "customer": "株式会社テスト",
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def keys(key: SigningKey) -> dict[str, VerifyingKey]:
    return {key.kid: key.public}


def test_canonical_json() -> None:
    assert (
        canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    )
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})


def test_round_trip(key: SigningKey, keys: dict[str, VerifyingKey]) -> None:
    envelope = sign_statement(STATEMENT, key)
    assert envelope["alg"] == "ed25519"
    assert envelope["kid"] == key.kid
    assert len(base64.b64decode(envelope["signature"])) == 64
    # It survives the trip over HTTP as JSON.
    check = verify_statement(json.loads(json.dumps(envelope)), keys)
    assert check.ok
    assert check.reason is None
    assert check.statement == STATEMENT


def test_kid_is_derived_from_the_public_key(key: SigningKey) -> None:
    assert key.kid.startswith("ed25519-")
    assert len(key.kid) == len("ed25519-") + 16
    assert SigningKey.from_pem(key.to_pem()).kid == key.kid
    assert SigningKey.generate().kid != key.kid


@pytest.mark.parametrize("field", sorted(STATEMENT))
def test_tampering_any_statement_field_fails(
    key: SigningKey, keys: dict[str, VerifyingKey], field: str
) -> None:
    envelope = sign_statement(STATEMENT, key)
    value = envelope["statement"][field]
    envelope["statement"][field] = value + 1 if isinstance(value, int) else value + "x"
    check = verify_statement(envelope, keys)
    assert not check.ok
    assert check.reason == StatementError.BAD_SIGNATURE
    assert check.statement is None


def test_adding_or_removing_a_statement_field_fails(
    key: SigningKey, keys: dict[str, VerifyingKey]
) -> None:
    added = sign_statement(STATEMENT, key)
    added["statement"]["seats_extra"] = 1000
    assert verify_statement(added, keys).reason == StatementError.BAD_SIGNATURE
    removed = sign_statement(STATEMENT, key)
    del removed["statement"]["grace_end"]
    assert verify_statement(removed, keys).reason == StatementError.BAD_SIGNATURE


def test_tampered_signature_fails(key: SigningKey, keys: dict[str, VerifyingKey]) -> None:
    envelope = sign_statement(STATEMENT, key)
    raw = bytearray(base64.b64decode(envelope["signature"]))
    raw[0] ^= 1
    envelope["signature"] = base64.b64encode(bytes(raw)).decode()
    assert verify_statement(envelope, keys).reason == StatementError.BAD_SIGNATURE


def test_wrong_key_fails(key: SigningKey) -> None:
    other = SigningKey.generate()
    envelope = sign_statement(STATEMENT, other)
    assert verify_statement(envelope, {key.kid: key.public}).reason == StatementError.UNKNOWN_KID
    # Even relabelled with the trusted kid, the signature does not check out.
    envelope["kid"] = key.kid
    assert verify_statement(envelope, {key.kid: key.public}).reason == StatementError.BAD_SIGNATURE


@pytest.mark.parametrize("alg", ["none", "None", "hs256", "HS256", "ED25519", "EdDSA", "", None, 1])
def test_disallowed_algs_fail(key: SigningKey, keys: dict[str, VerifyingKey], alg: object) -> None:
    envelope = sign_statement(STATEMENT, key)
    envelope["alg"] = alg
    check = verify_statement(envelope, keys)
    assert not check.ok
    assert check.reason == StatementError.UNSUPPORTED_ALG
    assert alg not in ALLOWED_ALGS


def test_alg_none_with_empty_signature_fails(
    key: SigningKey, keys: dict[str, VerifyingKey]
) -> None:
    envelope = {"statement": STATEMENT, "alg": "none", "kid": key.kid, "signature": ""}
    assert not verify_statement(envelope, keys).ok


def test_kid_mismatch_fails(key: SigningKey) -> None:
    envelope = sign_statement(STATEMENT, key)
    rotated = SigningKey.generate()
    # The envelope names a kid the server knows, but under it sits another key.
    assert (
        verify_statement(envelope, {key.kid: rotated.public}).reason == StatementError.KID_MISMATCH
    )
    envelope["kid"] = rotated.kid
    assert (
        verify_statement(envelope, {rotated.kid: rotated.public, key.kid: key.public}).reason
        == StatementError.BAD_SIGNATURE
    )


def test_key_rotation(key: SigningKey) -> None:
    new = SigningKey.generate()
    trusted = {key.kid: key.public, new.kid: new.public}
    assert verify_statement(sign_statement(STATEMENT, key), trusted).ok
    assert verify_statement(sign_statement(STATEMENT, new), trusted).ok


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: [], StatementError.MALFORMED_ENVELOPE),
        (lambda e: e.pop("kid"), StatementError.MALFORMED_ENVELOPE),
        (lambda e: e.update(kid=7), StatementError.MALFORMED_ENVELOPE),
        (lambda e: e.update(statement="{}"), StatementError.MALFORMED_STATEMENT),
        (lambda e: e.update(statement=[1]), StatementError.MALFORMED_STATEMENT),
        (lambda e: e.pop("statement"), StatementError.MALFORMED_STATEMENT),
        (lambda e: e.pop("signature"), StatementError.MALFORMED_SIGNATURE),
        (lambda e: e.update(signature=b"abc"), StatementError.MALFORMED_SIGNATURE),
        (lambda e: e.update(signature="!!!not base64!!!"), StatementError.MALFORMED_SIGNATURE),
        (lambda e: e.update(signature="ｱｲｳ"), StatementError.MALFORMED_SIGNATURE),
        (lambda e: e.update(signature="AAAA"), StatementError.MALFORMED_SIGNATURE),
        (
            lambda e: e["statement"].update(x=float("inf")),
            StatementError.MALFORMED_STATEMENT,
        ),
        (lambda e: e["statement"].update(x={1, 2}), StatementError.MALFORMED_STATEMENT),
    ],
)
def test_malformed_envelopes(
    key: SigningKey, keys: dict[str, VerifyingKey], mutate: Any, reason: StatementError
) -> None:
    envelope = sign_statement(STATEMENT, key)
    result = mutate(envelope)
    target = result if isinstance(result, list) else envelope
    check = verify_statement(target, keys)
    assert not check.ok
    assert check.reason == reason


def test_non_mapping_envelopes() -> None:
    hostile_values: tuple[object, ...] = (None, 1, "x", b"x", [], 1.5)
    for hostile in hostile_values:
        assert verify_statement(hostile, {}).reason == StatementError.MALFORMED_ENVELOPE


def test_verified_statement_is_detached(key: SigningKey, keys: dict[str, VerifyingKey]) -> None:
    envelope = sign_statement(STATEMENT, key)
    check = verify_statement(envelope, keys)
    assert check.statement is not None
    envelope["statement"]["seats"] = 9999
    assert check.statement["seats"] == 25


def test_unknown_top_level_fields_are_ignored(
    key: SigningKey, keys: dict[str, VerifyingKey]
) -> None:
    envelope = sign_statement(STATEMENT, key)
    envelope["note"] = "added by a newer vendor"
    assert verify_statement(envelope, keys).ok


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.binary(max_size=8),
)
json_like = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(envelope=json_like)
def test_arbitrary_values_never_raise(envelope: object) -> None:
    check = verify_statement(envelope, {})
    assert not check.ok


@settings(max_examples=300, deadline=None)
@given(
    statement=json_like,
    alg=st.one_of(st.just("ed25519"), json_like),
    use_real_kid=st.booleans(),
    kid=json_like,
    signature=st.one_of(
        json_like, st.binary(min_size=64, max_size=64).map(lambda b: base64.b64encode(b).decode())
    ),
    extra=st.dictionaries(st.text(max_size=8), json_like, max_size=3),
)
def test_arbitrary_envelopes_never_raise(
    key: SigningKey,
    keys: dict[str, VerifyingKey],
    statement: object,
    alg: object,
    use_real_kid: bool,
    kid: object,
    signature: object,
    extra: dict[str, object],
) -> None:
    envelope = {
        **extra,
        "statement": statement,
        "alg": alg,
        "kid": key.kid if use_real_kid else kid,
        "signature": signature,
    }
    check = verify_statement(envelope, keys)
    assert not check.ok
    assert check.reason in set(StatementError)


@settings(max_examples=100, deadline=None)
@given(statement=st.dictionaries(st.text(max_size=10), json_like, max_size=5))
def test_any_signable_statement_round_trips(
    key: SigningKey, keys: dict[str, VerifyingKey], statement: dict[str, Any]
) -> None:
    try:
        envelope = sign_statement(statement, key)
    except (TypeError, ValueError):
        return  # not JSON (bytes, NaN, mixed key types): refused when signing, fine
    check = verify_statement(copy.deepcopy(envelope), keys)
    assert check.ok
    assert check.statement == json.loads(canonical_json(statement))


# --- keys on disk and as JWK ----------------------------------------------------------


def test_pem_round_trip(key: SigningKey) -> None:
    loaded = SigningKey.from_pem(key.to_pem())
    assert loaded.public == key.public
    assert VerifyingKey.from_pem(key.public.to_pem()) == key.public
    assert b"PRIVATE KEY" in key.to_pem()
    assert b"PUBLIC KEY" in key.public.to_pem()


def test_pem_of_another_kind_is_refused(key: SigningKey) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_private = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        SigningKey.from_pem(ec_private)
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        VerifyingKey.from_pem(ec_public)
    with pytest.raises(ValueError, match="private key"):
        SigningKey.from_pem(key.public.to_pem())
    with pytest.raises(ValueError, match="deserialize"):
        VerifyingKey.from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def test_jwk_round_trip(key: SigningKey) -> None:
    jwk = key.public.to_jwk()
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig"
    assert jwk["kid"] == key.kid
    assert "=" not in jwk["x"]
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert VerifyingKey.from_jwk(json.loads(json.dumps(jwk))) == key.public


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"kty": "RSA"}, "not an Ed25519 JWK"),
        ({"crv": "X25519"}, "not an Ed25519 JWK"),
        ({"alg": "HS256"}, "alg must be EdDSA"),
        ({"x": None}, "without x"),
        ({"x": "***"}, "not base64url"),
        ({"x": "AAAA"}, "32 bytes"),
        ({"x": "ｱ"}, "not base64url"),
        ({"kid": "ed25519-0000000000000000"}, "kid does not match"),
        ({"d": "AAAA"}, "private JWK"),
    ],
)
def test_bad_jwk_is_refused(key: SigningKey, change: dict[str, Any], complaint: str) -> None:
    jwk: dict[str, Any] = {**key.public.to_jwk(), **change}
    with pytest.raises(ValueError, match=complaint):
        VerifyingKey.from_jwk(jwk)


def _spellings(x: str) -> list[str]:
    """Other texts a lenient decoder reads as the same 32 bytes."""
    last = x[-1]
    sloppy = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 32 bytes leave 2 unused bits in the last of 43 characters: the next three spell the
    # same bytes with a bit set that canonical base64url keeps zero.
    same_bytes = [
        x[:-1] + sloppy[sloppy.index(last) + bump]
        for bump in (1, 2, 3)
        if sloppy.index(last) + bump < len(sloppy)
    ]
    return [
        x + "=",
        x + "==",
        x[:20] + "\n" + x[20:],
        x[:20] + " " + x[20:],
        x.replace("-", "+").replace("_", "/") if ("-" in x or "_" in x) else x + "*",
        *same_bytes,
    ]


@given(raw=st.binary(min_size=32, max_size=32))
@settings(max_examples=200, deadline=None)
def test_jwk_x_is_read_only_in_its_one_canonical_spelling(raw: bytes) -> None:
    """RFC 7515 base64url without padding, and only the spelling to_jwk writes: a key has
    one text, so a kid check, a pin or a log line cannot be sidestepped by re-spelling it."""
    public = VerifyingKey.from_raw(raw)
    jwk = public.to_jwk()
    assert VerifyingKey.from_jwk(jwk) == public
    assert len(jwk["x"]) == 43
    for other in _spellings(jwk["x"]):
        lenient = base64.urlsafe_b64decode(other + "==")  # skips junk, padding, spare bits
        assert lenient == raw, other  # the same key to a lenient reader...
        with pytest.raises(ValueError, match="not base64url"):
            VerifyingKey.from_jwk({**jwk, "x": other})  # ...but not to ours


@given(x=st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_jwk_x_is_a_key_or_a_value_error(x: str) -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x}
    try:
        key = VerifyingKey.from_jwk(jwk)
    except ValueError:
        return
    assert key.to_jwk()["x"] == x


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_jwk_x_must_be_exactly_32_bytes(length: int) -> None:
    x = base64.urlsafe_b64encode(bytes(range(length))).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="32 bytes"):
        VerifyingKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})


def test_write_secret_file(tmp_path: Path) -> None:
    target = tmp_path / "secret.bin"
    write_secret_file(target, b"one")
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)
    write_secret_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.bin"]


def test_write_secret_file_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(IsADirectoryError):
        write_secret_file(target, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir-in-the-way"]


def test_load_or_create_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "vendor-signing.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signing_key(path).kid == created.kid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vendor-signing.pem"]


def test_concurrent_creation_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    kids: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        kids.append(load_or_create_signing_key(path).kid)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1
    assert SigningKey.from_pem(path.read_bytes()).kid == kids[0]


def test_endorsements_are_followed_from_a_trusted_key_in_any_order() -> None:
    at = datetime(2026, 11, 27, tzinfo=UTC)
    k1, k2, k3 = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    one_two = endorse_key(k2.public, k1, at=at)
    two_three = endorse_key(k3.public, k2, at=at)
    trusted = {k1.kid: k1.public}
    assert follow_endorsements(trusted, [two_three, one_two]) == {
        k2.kid: k2.public,
        k3.kid: k3.public,
    }
    assert follow_endorsements({k3.kid: k3.public}, [one_two, two_three]) == {}
    rogue = SigningKey.generate()
    assert follow_endorsements(trusted, [endorse_key(k2.public, rogue, at=at)]) == {}
    tampered = {**one_two, "statement": {**one_two["statement"], "jwk": rogue.public.to_jwk()}}
    assert follow_endorsements(trusted, [tampered]) == {}
    # A validly signed statement that is not an endorsement adds nothing.
    other = sign_statement({"kind": "activeupdate_manifest", "jwk": k2.public.to_jwk()}, k1)
    assert follow_endorsements(trusted, [other, "junk", None, {}]) == {}
