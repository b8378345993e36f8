"""Trusting a status statement: the signature with a pinned key, then what it names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cssec.core.license import Product
from cssec.core.signing import SigningKey, sign_statement
from cssec.server.licensing.errors import UntrustedStatement
from cssec.server.licensing.statements import verify_envelope, verify_revocation

KEY = SigningKey.generate()
OTHER = SigningKey.generate()
CODE = "CS" + "0" * 29
SERVER = "server-1"
NONCE = "n0nce-of-this-request-42"


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "v": 1,
        "activation_code": CODE,
        "server_id": SERVER,
        "product": "CS",
        "version_type": "full",
        "state": "activated",
        "contract_end": "2027-11-30",
        "grace_days": 30,
        "grace_end": "2027-12-30",
        "seats": 25,
        "customer": "株式会社テスト",
        "issued_at": "2026-11-27T20:00:00Z",
        "nonce": NONCE,
    }
    statement.update(changes)
    return statement


def _verify(envelope: dict[str, Any], keys: list[SigningKey] | None = None) -> Any:
    pinned = {k.kid: k.public for k in (keys if keys is not None else [KEY])}
    return verify_envelope(
        envelope, pinned, activation_code=CODE, server_id=SERVER, product=Product.CS, nonce=NONCE
    )


def test_a_good_statement() -> None:
    verified = _verify(sign_statement(_statement(), KEY))
    assert verified.contract_end == date(2027, 11, 30)
    assert verified.grace_days == 30
    assert verified.seats == 25
    assert verified.issued_at.isoformat() == "2026-11-27T20:00:00+00:00"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (sign_statement(_statement(), OTHER), "unknown_kid"),
        ({**sign_statement(_statement(), KEY), "alg": "none"}, "unsupported_alg"),
        (
            {
                **sign_statement(_statement(), KEY),
                "statement": _statement(contract_end="2099-01-01"),
            },
            "bad_signature",
        ),
        (sign_statement(_statement(server_id="another"), KEY), "server_id_mismatch"),
        (
            sign_statement(_statement(activation_code="CS" + "1" * 29), KEY),
            "activation_code_mismatch",
        ),
        (sign_statement(_statement(product="DCS"), KEY), "product_mismatch"),
        (sign_statement(_statement(v=2), KEY), "unsupported_statement_version"),
        (sign_statement(_statement(grace_days=-1), KEY), "malformed_statement"),
        (sign_statement(_statement(contract_end="soon"), KEY), "malformed_statement"),
        (sign_statement(_statement(issued_at="2026-11-27T20:00:00"), KEY), "malformed_statement"),
        (
            sign_statement(_statement(issued_at="0001-01-01T00:00:00+09:00"), KEY),
            "malformed_statement",
        ),
        ({"statement": "x"}, "unsupported_alg"),
        (sign_statement(_statement(nonce="an-earlier-request-nonce"), KEY), "nonce_mismatch"),
        (
            sign_statement({k: v for k, v in _statement().items() if k != "nonce"}, KEY),
            "nonce_missing",
        ),
    ],
)
def test_untrusted_statements(envelope: dict[str, Any], reason: str) -> None:
    with pytest.raises(UntrustedStatement) as caught:
        _verify(envelope)
    assert caught.value.fields["reason"] == reason
    assert "変更されていません" in caught.value.message("ja")


@pytest.mark.parametrize(
    "change",
    [{"seats": True}, {"grace_days": False}, {"grace_days": True}, {"seats": 1.0}],
    ids=["seats-true", "grace-false", "grace-true", "seats-float"],
)
def test_a_signed_boolean_is_not_a_number(change: dict[str, Any]) -> None:
    """JSON true is a Python int: a vendor (or a bug) signing seats: true must not make a
    one-seat license, nor grace_days: false a license with no grace."""
    assert _verify(sign_statement(_statement(seats=1, grace_days=0), KEY)).seats == 1
    with pytest.raises(UntrustedStatement) as caught:
        _verify(sign_statement(_statement(**change), KEY))
    assert caught.value.fields["reason"] == "malformed_statement"


def test_a_signed_version_true_is_not_version_1() -> None:
    """`True == 1` in Python: a statement signed with "v": true is not format 1."""
    with pytest.raises(UntrustedStatement) as caught:
        _verify(sign_statement(_statement(v=True), KEY))
    assert caught.value.fields["reason"] == "unsupported_statement_version"


def test_a_boolean_contract_id_names_no_contract() -> None:
    assert _verify(sign_statement(_statement(contract_id=7), KEY)).contract_id == 7
    assert _verify(sign_statement(_statement(contract_id=True), KEY)).contract_id is None


def test_a_rotated_key_still_pinned_verifies() -> None:
    assert _verify(sign_statement(_statement(), OTHER), keys=[KEY, OTHER]).seats == 25


def _revocation(**changes: Any) -> dict[str, Any]:
    return sign_statement(
        _statement(state="revoked", revoked_at="2026-11-30T01:02:03Z", **changes), KEY
    )


def _verify_revocation(envelope: object) -> Any:
    return verify_revocation(
        envelope, {KEY.kid: KEY.public}, activation_code=CODE, server_id=SERVER,
        product=Product.CS, nonce=NONCE,
    )  # fmt: skip


def test_a_signed_revocation_for_this_request() -> None:
    revoked = _verify_revocation(_revocation())
    assert revoked.revoked_at.isoformat() == "2026-11-30T01:02:03+00:00"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (_revocation(nonce="an-earlier-request-nonce"), "nonce_mismatch"),
        (sign_statement(_statement(), KEY), "not_a_revocation"),
        (_revocation(server_id="another"), "server_id_mismatch"),
        (sign_statement(_statement(state="revoked"), KEY), "malformed_statement"),
        (
            {**_revocation(), "signature": sign_statement(_statement(), OTHER)["signature"]},
            "bad_signature",
        ),
        ("revoked", "malformed_statement"),
    ],
)
def test_untrusted_revocations(envelope: object, reason: str) -> None:
    """A revocation acts on the license, so it must pass every check a statement passes:
    a forged or replayed one is refused and changes nothing."""
    with pytest.raises(UntrustedStatement) as caught:
        _verify_revocation(envelope)
    assert caught.value.fields["reason"] == reason
